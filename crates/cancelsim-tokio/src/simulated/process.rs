//! `tokio::process`, simulated for the run-to-completion forms: a
//! [`Command`]'s [`output`](Command::output) and [`status`](Command::status)
//! start the real program where they are called (as tokio's do) and wait
//! for it as cancelsim blocking work (virtual cost:
//! [`set_blocking_cost`](crate::cancelsim::set_blocking_cost)), at the
//! caller's line, so a sweep drops or times out the wait like any other
//! await point. The program is real: its result is input to the run, like
//! a file's contents, and the runs of a sweep each start it.
//!
//! Not simulated: [`Command::spawn`] and the [`Child`] it returns (a running
//! child talks to the test through pipes in real time, which one simulated
//! thread cannot interleave deterministically): code that calls it fails to
//! compile with a message saying what to do.
//!
//! ```compile_fail,E0277
//! # async fn f() {
//! use cancelsim_tokio as tokio;
//! let _child = tokio::process::Command::new("true").spawn();
//! # }
//! ```

use std::ffi::OsStr;
use std::future::Future;
use std::io;
use std::panic::Location;
use std::path::Path;
use std::process::{Command as StdCommand, ExitStatus, Output, Stdio};

/// Not implemented by any type: a bound on it is the compile error of
/// [`Command::spawn`].
#[diagnostic::on_unimplemented(
    message = "tokio::process::Command::spawn is not simulated by cancelsim-tokio",
    label = "a running child cannot be interleaved deterministically with the simulation",
    note = "in the simulation build, run the program to completion with `.output().await` or \
            `.status().await` (simulated: cancelsim blocking work at this line), put the child \
            behind a trait the tests replace, or keep this code out of the simulated tests \
            with `#[cfg(not(cancelsim))]`"
)]
pub trait SpawnIsNotSimulated {}

/// `tokio::process::Command`: a `std::process::Command` whose
/// [`output`](Self::output) and [`status`](Self::status) are awaited as
/// cancelsim blocking work.
#[derive(Debug)]
pub struct Command {
    std: StdCommand,
    kill_on_drop: bool,
}

impl From<StdCommand> for Command {
    fn from(std: StdCommand) -> Command {
        Command {
            std,
            kill_on_drop: false,
        }
    }
}

/// Builder methods that forward to `std::process::Command`'s of the same
/// name and return `&mut Command`, as tokio's do.
macro_rules! forward {
    ($($(#[$attr:meta])* fn $name:ident$(<$($g:ident: $b:path),*>)?($($arg:ident: $ty:ty),*);)*) => {$(
        $(#[$attr])*
        pub fn $name$(<$($g: $b),*>)?(&mut self, $($arg: $ty),*) -> &mut Command {
            self.std.$name($($arg),*);
            self
        }
    )*};
}

impl Command {
    /// `tokio::process::Command::new`.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Self::from(StdCommand::new(program))
    }

    /// The `std::process::Command` inside.
    pub fn as_std(&self) -> &StdCommand {
        &self.std
    }

    /// The `std::process::Command` inside, mutably.
    pub fn as_std_mut(&mut self) -> &mut StdCommand {
        &mut self.std
    }

    /// The `std::process::Command` inside (its `kill_on_drop` is lost).
    pub fn into_std(self) -> StdCommand {
        self.std
    }

    forward! {
        /// `tokio::process::Command::arg`.
        fn arg<S: AsRef<OsStr>>(arg: S);
        /// `tokio::process::Command::env_remove`.
        fn env_remove<K: AsRef<OsStr>>(key: K);
        /// `tokio::process::Command::env_clear`.
        fn env_clear();
        /// `tokio::process::Command::current_dir`.
        fn current_dir<P: AsRef<Path>>(dir: P);
        /// `tokio::process::Command::stdin`.
        fn stdin<T: Into<Stdio>>(cfg: T);
        /// `tokio::process::Command::stdout`.
        fn stdout<T: Into<Stdio>>(cfg: T);
        /// `tokio::process::Command::stderr`.
        fn stderr<T: Into<Stdio>>(cfg: T);
    }

    /// `tokio::process::Command::args`.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// `tokio::process::Command::env`.
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.env(key, val);
        self
    }

    /// `tokio::process::Command::envs`.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// `tokio::process::Command::kill_on_drop`: a future of
    /// [`output`](Self::output) or [`status`](Self::status) dropped before
    /// its first poll kills the program; once polled, its wait is blocking
    /// work, which runs to the end like tokio's blocking pool (tokio would
    /// kill the program on that drop too).
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// `tokio::process::Command::get_kill_on_drop`.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// `tokio::process::Command::spawn`: not simulated; using it fails to
    /// compile with what to do instead (see the [module](self) docs).
    pub fn spawn<'a>(&'a mut self) -> io::Result<Child>
    where
        &'a mut Self: SpawnIsNotSimulated,
    {
        unreachable!("SpawnIsNotSimulated has no implementation")
    }

    /// `tokio::process::Command::status`: starts the program here (stdio
    /// inherited unless set), then waits for it as blocking work at the
    /// caller's line.
    #[track_caller]
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + 'static {
        let at = Location::caller();
        let child = Started::start(&mut self.std, self.kill_on_drop);
        async move {
            crate::task::blocking_at(at, "Command::status", move || child?.take().wait()).await
        }
    }

    /// `tokio::process::Command::output`: starts the program here with its
    /// stdout and stderr piped (stdin as set, else closed), then collects
    /// them and waits for it as blocking work at the caller's line.
    #[track_caller]
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + Send + 'static {
        let at = Location::caller();
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = Started::start(&mut self.std, self.kill_on_drop);
        async move {
            crate::task::blocking_at(at, "Command::output", move || {
                child?.take().wait_with_output()
            })
            .await
        }
    }
}

/// A program started by [`Command::status`] or [`Command::output`] whose
/// wait has not begun: dropped (its future dropped before its first poll),
/// it kills the program if asked to, and reaps it on a thread of its own
/// either way, as tokio's orphan queue does.
struct Started {
    child: Option<std::process::Child>,
    kill_on_drop: bool,
}

impl Started {
    fn start(std: &mut StdCommand, kill_on_drop: bool) -> io::Result<Started> {
        Ok(Started {
            child: Some(std.spawn()?),
            kill_on_drop,
        })
    }

    fn take(mut self) -> std::process::Child {
        self.child.take().expect("taken once")
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.kill_on_drop {
                let _ = child.kill();
            }
            std::thread::spawn(move || child.wait());
        }
    }
}

/// Never made: only [`Command::spawn`] would make a [`Child`].
#[derive(Debug)]
enum Never {}

/// `tokio::process::Child`: not simulated (only [`Command::spawn`] makes
/// one, and it fails to compile). Its fields and methods are here so that
/// code using them reports only that error.
#[derive(Debug)]
pub struct Child {
    /// `tokio::process::Child::stdin`.
    pub stdin: Option<ChildStdin>,
    /// `tokio::process::Child::stdout`.
    pub stdout: Option<ChildStdout>,
    /// `tokio::process::Child::stderr`.
    pub stderr: Option<ChildStderr>,
    never: Never,
}

impl Child {
    /// `tokio::process::Child::id`.
    pub fn id(&self) -> Option<u32> {
        match self.never {}
    }

    /// `tokio::process::Child::start_kill`.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match self.never {}
    }

    /// `tokio::process::Child::kill`.
    pub async fn kill(&mut self) -> io::Result<()> {
        match self.never {}
    }

    /// `tokio::process::Child::wait`.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        match self.never {}
    }

    /// `tokio::process::Child::try_wait`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match self.never {}
    }

    /// `tokio::process::Child::wait_with_output`.
    pub async fn wait_with_output(self) -> io::Result<Output> {
        match self.never {}
    }
}

macro_rules! unconstructible {
    ($($name:ident: $io:ident),*) => {$(
        #[doc = concat!(
            "`tokio::process::", stringify!($name), "`: not simulated (only a [`Child`] has one)."
        )]
        #[derive(Debug)]
        pub struct $name(Never);

        unconstructible!(@$io $name);
    )*};
    (@read $name:ident) => {
        impl tokio::io::AsyncRead for $name {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                match self.0 {}
            }
        }
    };
    (@write $name:ident) => {
        impl tokio::io::AsyncWrite for $name {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &[u8],
            ) -> std::task::Poll<io::Result<usize>> {
                match self.0 {}
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                match self.0 {}
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                match self.0 {}
            }
        }
    };
}

unconstructible!(ChildStdin: write, ChildStdout: read, ChildStderr: read);
