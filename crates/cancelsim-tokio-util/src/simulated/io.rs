//! `tokio_util::io`: tokio-util's adapters, unchanged (they do not touch
//! the runtime), except `SyncIoBridge`, which blocks a thread on the
//! runtime and so cannot run inside a simulation.

pub use tokio_util::io::*;

/// Not implemented by any type: a bound on it is the compile error.
///
/// ```compile_fail
/// let (reader, _writer) = cancelsim_tokio::io::duplex(64);
/// let bridge = cancelsim_tokio_util::io::SyncIoBridge::new(reader);
/// ```
#[diagnostic::on_unimplemented(
    message = "tokio_util::io::SyncIoBridge is not simulated by cancelsim-tokio-util",
    label = "it blocks a thread on the runtime, and the simulation has only one",
    note = "in the simulation build, use the async reader or writer directly (tokio's \
            `AsyncReadExt` / `AsyncWriteExt`), or keep this code out of the simulated tests \
            with `#[cfg(not(cancelsim))]`"
)]
pub trait SyncIoBridgeIsNotSimulated {}

/// `tokio_util::io::SyncIoBridge`: not simulated (any use fails to compile).
#[cfg(feature = "io-util")]
#[derive(Debug)]
pub struct SyncIoBridge<T> {
    _src: std::marker::PhantomData<T>,
}

#[cfg(feature = "io-util")]
impl<T: SyncIoBridgeIsNotSimulated> SyncIoBridge<T> {
    /// Not simulated: fails to compile.
    pub fn new(_src: T) -> Self {
        unreachable!()
    }

    /// Not simulated: fails to compile.
    pub fn new_with_handle(_src: T, _rt: cancelsim_tokio::runtime::Handle) -> Self {
        unreachable!()
    }
}
