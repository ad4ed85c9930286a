//! The pinned random number generator behind every seeded choice.
//!
//! ChaCha8 (from `rand_chacha`, whose output is specified by the algorithm,
//! not by the crate version) seeded with `seed_from_u64`, and our own bounded
//! sampling (Lemire's multiply-and-reject), so a seed gives the same stream on
//! every machine and every release. `tests/determinism/pinned.rs` snapshots the
//! first values to guard this.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded, portable random stream.
#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    /// A stream determined by `seed` alone.
    pub fn new(seed: u64) -> Self {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform value in `0..n` (`n` must be non-zero).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        // Lemire, "Fast Random Integer Generation in an Interval" (2019).
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }
}
