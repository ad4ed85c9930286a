//! The seeded streams are pinned (insta snapshots under `snapshots/`): the
//! raw `SimRng` and the random values of a seeded world.

use cancelsim::schedule::SimRng;
use cancelsim::{random, Config, Sim};

#[test]
fn the_seeded_rng_stream_is_pinned() {
    let mut rng = SimRng::new(42);
    let values: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_debug_snapshot!("determinism_sim_rng_seed_42", values);
    });
}

#[test]
fn the_random_values_of_a_seeded_world_are_pinned() {
    let mut sim = Sim::new(Config::default().seed(42));
    let values: Vec<u64> = sim
        .block_on(async { (0..8).map(|_| random::<u64>()).collect() })
        .unwrap();
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_debug_snapshot!("determinism_random_u64_seed_42", values);
    });
}
