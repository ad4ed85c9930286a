//! Seeded, recorded random numbers for the code under test.

use crate::world;

/// Types that [`random`] can produce from 64 random bits.
pub trait SimRandom {
    /// Builds a value from 64 uniformly random bits.
    fn from_bits(bits: u64) -> Self;
}

macro_rules! from_bits_truncating {
    ($($t:ty),*) => {$(
        impl SimRandom for $t {
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }
        }
    )*};
}

from_bits_truncating!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl SimRandom for bool {
    fn from_bits(bits: u64) -> Self {
        bits >> 63 == 1
    }
}

impl SimRandom for f64 {
    /// Uniform in `[0, 1)`.
    fn from_bits(bits: u64) -> Self {
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl SimRandom for f32 {
    /// Uniform in `[0, 1)`.
    fn from_bits(bits: u64) -> Self {
        (bits >> 40) as f32 / (1u32 << 24) as f32
    }
}

/// A random value from the world's seeded stream. Every value is recorded in
/// the schedule, so a replay hands out the same numbers.
///
/// # Panics
///
/// Outside a simulation.
#[track_caller]
pub fn random<T: SimRandom>() -> T {
    let at = std::panic::Location::caller();
    T::from_bits(world::with(|world| world.next_random(at)))
}

/// A random number in `range` (one draw; multiply-shift reduction).
///
/// # Panics
///
/// If the range is empty, or outside a simulation.
#[track_caller]
pub fn random_range(range: std::ops::Range<u64>) -> u64 {
    assert!(
        range.start < range.end,
        "cancelsim::random_range: empty range {range:?}"
    );
    let span = range.end - range.start;
    let at = std::panic::Location::caller();
    let bits = world::with(|world| world.next_random(at));
    range.start + ((u128::from(bits) * u128::from(span)) >> 64) as u64
}

/// A recorded choice among `options` alternatives: an index in
/// `0..options`. It is a scheduling decision, not a random number of the
/// program: the `Fifo` baseline always takes alternative 0, `Random` and
/// `Pct` explore the others, and a replay takes the recorded one. The trace
/// shows `choice 2 of 3 at file:line`. Simulated libraries use it where a
/// real runtime would decide (`select!`'s start branch, how long a simulated
/// write takes to arrive).
///
/// ```
/// use cancelsim::{Config, SchedulerKind, Sim};
///
/// let first = Sim::new(Config::default()).block_on(async { cancelsim::choose(3) });
/// assert_eq!(first.unwrap(), 0, "the Fifo baseline takes the first alternative");
/// let mut seen = std::collections::BTreeSet::new();
/// for seed in 0..32 {
///     let config = Config::default().seed(seed).scheduler(SchedulerKind::Random);
///     seen.insert(Sim::new(config).block_on(async { cancelsim::choose(3) }).unwrap());
/// }
/// assert_eq!(seen.len(), 3, "random schedules explore every alternative");
/// ```
///
/// # Panics
///
/// If `options` is 0 or over `u32::MAX`, or outside a simulation.
#[track_caller]
pub fn choose(options: usize) -> usize {
    choose_located(options, std::panic::Location::caller())
}

/// [`choose`], recorded at `at`: for a simulated library whose choice is
/// made away from its user's call site (a simulated stream's delivery
/// delay, made inside a read's poll), at a site of its user's it captured.
///
/// # Panics
///
/// As [`choose`].
pub fn choose_located(options: usize, at: &'static std::panic::Location<'static>) -> usize {
    let options = options_u32(options);
    world::with(|world| world.choose(options, at)) as usize
}

fn options_u32(options: usize) -> u32 {
    u32::try_from(options)
        .ok()
        .filter(|options| *options > 0)
        .unwrap_or_else(|| panic!("cancelsim::choose: {options} options (1..=u32::MAX)"))
}

/// [`choose_located`], its trace line saying what the alternative taken
/// means: `label(chosen)` is shown after the choice (`choice 2 of 4 at
/// src/conn.rs:12:9: 6 bytes written to the stream arrive in two
/// pieces, 3 + 3`), asked only when the trace is recorded (a choice among
/// more than 255 alternatives is shown without it). For a simulated
/// library whose choices a reader of the trace would otherwise have to
/// decode (a stream's delivery delays).
///
/// ```
/// use cancelsim::{Config, SchedulerKind, Sim};
///
/// let at = std::panic::Location::caller();
/// let mut sim = Sim::new(Config::default().seed(3).scheduler(SchedulerKind::Random));
/// let delay = sim
///     .block_on(async move {
///         cancelsim::choose_labelled(4, at, |step| format!("the reply waits {step} ms"))
///     })
///     .unwrap();
/// let trace = sim.trace().to_string();
/// assert!(trace.contains(&format!("choice {delay} of 4 at")), "{trace}");
/// assert!(trace.contains(&format!(": the reply waits {delay} ms")), "{trace}");
/// ```
///
/// # Panics
///
/// As [`choose`].
pub fn choose_labelled(
    options: usize,
    at: &'static std::panic::Location<'static>,
    label: impl FnOnce(usize) -> String,
) -> usize {
    let options = options_u32(options);
    let mut label = Some(label);
    world::with(|world| {
        world.choose_labelled(options, at, &mut |chosen| {
            label.take().map(|label| label(chosen as usize))
        })
    }) as usize
}
