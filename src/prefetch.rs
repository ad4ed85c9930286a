//! Cache prefetch hints: start loading memory that is about to be used.
//!
//! With thousands of tasks, a task's slot and future are cold by the time
//! its timer fires, and each poll waited for its misses one after another.
//! When an instant's timers fire, the world hints every woken task's slot,
//! and then its future, so that their misses overlap instead.
//!
//! A hint has no effect on what the program computes (it never faults and
//! changes no value); `safe_arch` wraps the instruction without `unsafe`
//! here. On targets without it, a hint does nothing.

/// Hints that the cache line holding `value` will be read soon.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    safe_arch::prefetch_t0(value);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse")))]
    let _ = value;
}
