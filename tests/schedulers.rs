//! The built-in scheduling strategies of `cancelsim::schedule`, seen from
//! outside: their public names, and what each explores.

use cancelsim::schedule::{Random, RandomScheduler, Scheduler};
use cancelsim::{Config, SchedulerKind, Sim};

/// DESIGN names the strategy `Random`; the older `RandomScheduler` still
/// names the same type, so code written against either builds.
#[test]
fn random_is_the_random_strategy_and_random_scheduler_still_names_it() {
    let mut by_new_name: Random = Random::new(5);
    let mut by_old_name: RandomScheduler = RandomScheduler::new(5);
    let new_stream: Vec<u64> = (0..8).map(|_| by_new_name.next_u64().unwrap()).collect();
    let old_stream: Vec<u64> = (0..8).map(|_| by_old_name.next_u64().unwrap()).collect();
    assert_eq!(new_stream, old_stream);
    let same_type: Random = by_old_name;
    assert!(format!("{same_type:?}").starts_with("Random"));

    // `SchedulerKind::Random` is this strategy: a world under it hands out
    // the strategy's stream from the same seed.
    let mut sim = Sim::new(Config::default().seed(5).scheduler(SchedulerKind::Random));
    let from_world: Vec<u64> = sim
        .block_on(async { (0..8).map(|_| cancelsim::random::<u64>()).collect() })
        .unwrap();
    assert_eq!(from_world, new_stream);
}
