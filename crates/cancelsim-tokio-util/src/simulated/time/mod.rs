//! `tokio_util::time`, simulated: [`DelayQueue`] on the virtual clock (the
//! `cancelsim-tokio` facade's timer), and [`FutureExt`] with its timeouts.

use std::time::Duration;

pub mod delay_queue;
mod wheel;

#[doc(inline)]
pub use crate::simulated::future::FutureExt;
#[doc(inline)]
pub use delay_queue::DelayQueue;

/// How [`ms`] rounds a fraction of a millisecond.
enum Round {
    Up,
    Down,
}

/// `duration` in whole milliseconds (tokio-util's rounding, for the wheel).
fn ms(duration: Duration, round: Round) -> u64 {
    const NANOS_PER_MILLI: u32 = 1_000_000;
    const MILLIS_PER_SEC: u64 = 1_000;

    let millis = match round {
        Round::Up => duration.subsec_nanos().div_ceil(NANOS_PER_MILLI),
        Round::Down => duration.subsec_millis(),
    };

    duration
        .as_secs()
        .saturating_mul(MILLIS_PER_SEC)
        .saturating_add(u64::from(millis))
}
