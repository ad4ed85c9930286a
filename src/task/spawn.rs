//! `spawn`, `spawn_named`, `yield_now`.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::JoinHandle;
use crate::trace::{Wait, WaitKind};
use crate::vocab::TaskKind;
use crate::world;

/// Spawns a task on the current world. The future need not be `Send`.
///
/// The task is queued at once and runs when the scheduler picks it.
///
/// # Panics
///
/// Outside a simulation.
///
/// ```
/// let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// let out = sim.block_on(async {
///     let child = cancelsim::spawn(async { 21 * 2 });
///     child.await.unwrap()
/// });
/// assert_eq!(out.unwrap(), 42);
/// ```
#[track_caller]
#[inline]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_as(future, TaskKind::User, None)
}

/// Spawns a task with a name that traces and reports show (`fetch#3`).
#[track_caller]
pub fn spawn_named<F>(name: &str, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_as(future, TaskKind::User, Some(Rc::from(name)))
}

/// Spawns a task named by where it was spawned: traces and reports show
/// `pool.rs:37#3` (the file's name and the line of the call) instead of a
/// bare `#3` — with the file's directory where its name alone would not
/// say which file it is (`tests/pool.rs:12#4` beside `src/pool.rs`,
/// `pool/mod.rs:8#2`). What a simulated `tokio::spawn` uses, since tokio
/// tasks rarely have names.
///
/// ```
/// let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// sim.block_on(async {
///     cancelsim::task::spawn_named_by_site(async {}).await.unwrap();
/// })
/// .unwrap();
/// let line = line!() - 3;
/// assert!(sim.trace().to_string().contains(&format!(".rs:{line}#1")));
/// ```
#[track_caller]
pub fn spawn_named_by_site<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let at = Location::caller();
    spawn_as(future, TaskKind::User, Some(site_name(at)))
}

/// [`spawn_named_by_site`] with the site given: for a library whose
/// futures spawn when first polled (a simulated `tokio::fs::read` spawns
/// its blocking work then), which captures its user's call site with
/// `#[track_caller]` when the future is made and spawns there.
pub fn spawn_named_by_site_located<F>(
    future: F,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, TaskKind::User, Some(site_name(at)), at)
}

/// [`spawn_named`] at `at`: for a library whose futures spawn when first
/// polled, naming the task by what it does (a simulated `tokio::fs::write`
/// spawns its blocking work as `fs::write`, at its user's call).
///
/// ```
/// let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
/// let at = std::panic::Location::caller();
/// sim.block_on(async move {
///     cancelsim::task::spawn_named_located("fs::write", async {}, at).await.unwrap();
/// })
/// .unwrap();
/// let trace = sim.trace().to_string();
/// assert!(trace.contains(&format!("spawn fs::write#1 at {}:{}", at.file(), at.line())), "{trace}");
/// assert!(trace.contains("on join fs::write#1"), "{trace}");
/// ```
pub fn spawn_named_located<F>(
    name: &str,
    future: F,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, TaskKind::User, Some(Rc::from(name)), at)
}

/// `file.rs:LINE` for a spawn site, made once per site and thread (a
/// simulated `tokio::spawn` in a loop names a million tasks). The last
/// site asked for is kept apart, so such a loop looks nothing up.
fn site_name(at: &'static Location<'static>) -> Rc<str> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(usize, Rc<str>)>> =
            const { std::cell::RefCell::new(None) };
        static NAMES: std::cell::RefCell<std::collections::HashMap<usize, Rc<str>, SiteHasher>> =
            std::cell::RefCell::new(std::collections::HashMap::default());
    }
    // The address only finds a site's name again; it reaches no decision
    // and no trace.
    let key = at as *const Location<'static> as usize;
    let last = LAST.with(|last| match &*last.borrow() {
        Some((site, name)) if *site == key => Some(Rc::clone(name)),
        _ => None,
    });
    if let Some(name) = last {
        return name;
    }
    let name = NAMES.with(|names| {
        Rc::clone(
            names
                .borrow_mut()
                .entry(key)
                .or_insert_with(|| Rc::from(format!("{}:{}", short_path(at.file()), at.line()))),
        )
    });
    LAST.with(|last| *last.borrow_mut() = Some((key, Rc::clone(&name))));
    name
}

/// A spawn site's file as a task's name shows it: its name (`pool.rs`),
/// with its directory where the name alone would not say which file it
/// is — a test's, an example's or a bench's (`tests/pool.rs`, beside
/// `src/pool.rs`), or a module's `mod.rs`, `lib.rs` or `main.rs`
/// (`pool/mod.rs`).
fn short_path(file: &str) -> &str {
    let mut parts = file.rsplitn(3, ['/', '\\']);
    let name = parts.next().unwrap_or(file);
    let Some(dir) = parts.next() else {
        return name;
    };
    let shared = matches!(dir, "tests" | "examples" | "benches")
        || matches!(name, "mod.rs" | "lib.rs" | "main.rs");
    if shared {
        // `dir/name`: the file's last two parts, as written.
        &file[file.len() - dir.len() - 1 - name.len()..]
    } else {
        name
    }
}

/// Hashes a site's address with one multiplication (the keys are a few
/// distinct static addresses; SipHash cost as much as the spawn).
type SiteHasher = std::hash::BuildHasherDefault<AddressHasher>;

#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_usize(&mut self, value: usize) {
        self.0 = (value as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[track_caller]
#[inline]
pub(crate) fn spawn_as<F>(future: F, kind: TaskKind, name: Option<Rc<str>>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, kind, name, Location::caller())
}

/// [`spawn_as`] at a given spawn site.
#[inline]
pub(crate) fn spawn_at<F>(
    future: F,
    kind: TaskKind,
    name: Option<Rc<str>>,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // A handle to the world rather than a closure inside the thread-local
    // (docs/performance.md, "Moving through memory").
    let world = world::current();
    let (key, slot) = world.spawn(future, kind, name, at);
    JoinHandle::new(key, slot, &world, at)
}

/// Suspends the current task once, letting every other ready task run
/// first (it goes to the back of the ready queue under `Fifo`).
#[track_caller]
pub fn yield_now() -> YieldNow {
    YieldNow {
        yielded: false,
        at: Location::caller(),
    }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
    at: &'static Location<'static>,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // One look-up of the world for both the note and the wake: when the
        // waker is the polling task's own, the world queues the task itself.
        let woken = world::try_with(|world| {
            world.note_wait(Wait {
                kind: WaitKind::Yield,
                at: Some(self.at),
            });
            world
                .own_task(cx.waker())
                .is_some_and(|task| world.requeue_current(task))
        });
        if woken != Some(true) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod short_path_tests {
    use super::short_path;

    #[test]
    fn a_site_is_named_by_its_file_or_its_directory_and_file() {
        for (file, name) in [
            ("src/pool.rs", "pool.rs"),
            ("crates/svc/src/pool.rs", "pool.rs"),
            ("tests/pool.rs", "tests/pool.rs"),
            ("crates/svc/tests/pool.rs", "tests/pool.rs"),
            ("examples/demo.rs", "examples/demo.rs"),
            ("src/pool/mod.rs", "pool/mod.rs"),
            ("src/lib.rs", "src/lib.rs"),
            ("src\\main.rs", "src\\main.rs"),
            ("lib.rs", "lib.rs"),
            ("/abs/path/src/x.rs", "x.rs"),
        ] {
            assert_eq!(short_path(file), name, "{file}");
        }
    }
}
