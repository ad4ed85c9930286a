//! `tokio::time::error`: the errors of timers, with tokio's texts.

use std::fmt;

/// A `timeout` expired (tokio's `Elapsed`: the same `Display`, `Error` and
/// conversion to `io::Error`).
pub use ::cancelsim::time::Elapsed;

/// An error of the timer (tokio's `time::error::Error`). The simulated
/// timer makes none: its clock is always there and has no capacity limit;
/// the type exists for code that names or builds it.
#[derive(Debug, Copy, Clone)]
pub struct Error(Kind);

#[derive(Debug, Clone, Copy, Eq, PartialEq)]
enum Kind {
    Shutdown,
    AtCapacity,
    Invalid,
}

impl Error {
    /// The timer was shut down.
    pub fn shutdown() -> Error {
        Error(Kind::Shutdown)
    }

    /// Is it [`Error::shutdown`]?
    pub fn is_shutdown(&self) -> bool {
        self.0 == Kind::Shutdown
    }

    /// The timer is at capacity.
    pub fn at_capacity() -> Error {
        Error(Kind::AtCapacity)
    }

    /// Is it [`Error::at_capacity`]?
    pub fn is_at_capacity(&self) -> bool {
        self.0 == Kind::AtCapacity
    }

    /// The timer was misconfigured.
    pub fn invalid() -> Error {
        Error(Kind::Invalid)
    }

    /// Is it [`Error::invalid`]?
    pub fn is_invalid(&self) -> bool {
        self.0 == Kind::Invalid
    }
}

// The texts are tokio's (`tokio/src/time/error.rs`).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Kind::Shutdown => {
                "the timer is shutdown, must be called from the context of Tokio runtime"
            }
            Kind::AtCapacity => "timer is at capacity and cannot create a new entry",
            Kind::Invalid => "timer duration exceeds maximum duration",
        })
    }
}

impl std::error::Error for Error {}
