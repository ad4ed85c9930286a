//! `JoinMap` is not simulated yet: code that uses it fails to compile with
//! a message saying what to do, instead of spawning on real tokio inside
//! the simulation.

use std::marker::PhantomData;

/// Not implemented by any type: a bound on it is the compile error.
///
/// ```compile_fail
/// let map = cancelsim_tokio_util::task::JoinMap::<String, u32>::new();
/// ```
#[diagnostic::on_unimplemented(
    message = "tokio_util::task::JoinMap is not simulated by cancelsim-tokio-util yet",
    label = "it would spawn its tasks on real tokio, which does not run inside the simulation",
    note = "in the simulation build, use a `tokio::task::JoinSet` (simulated) with a map from \
            each task's `tokio::task::Id` to its key, or keep this code out of the simulated \
            tests with `#[cfg(not(cancelsim))]`"
)]
pub trait JoinMapIsNotSimulated {}

/// `tokio_util::task::JoinMap`: not simulated (any use fails to compile).
#[derive(Debug)]
pub struct JoinMap<K, V, S = std::collections::hash_map::RandomState> {
    _entries: PhantomData<(K, V, S)>,
}

#[allow(clippy::new_without_default)] // tokio-util's has none either
impl<K, V> JoinMap<K, V> {
    /// Not simulated: fails to compile.
    pub fn new() -> Self
    where
        K: JoinMapIsNotSimulated,
    {
        unreachable!()
    }

    /// Not simulated: fails to compile.
    pub fn with_capacity(_capacity: usize) -> Self
    where
        K: JoinMapIsNotSimulated,
    {
        unreachable!()
    }
}

impl<K, V, S> JoinMap<K, V, S> {
    /// Not simulated: fails to compile.
    pub fn with_hasher(_hash_builder: S) -> Self
    where
        K: JoinMapIsNotSimulated,
    {
        unreachable!()
    }

    /// Not simulated: fails to compile.
    pub fn with_capacity_and_hasher(_capacity: usize, _hash_builder: S) -> Self
    where
        K: JoinMapIsNotSimulated,
    {
        unreachable!()
    }
}

/// `tokio_util::task::JoinMapKeys`: not simulated.
#[derive(Debug)]
pub struct JoinMapKeys<'a, K, V> {
    _keys: PhantomData<&'a (K, V)>,
}
