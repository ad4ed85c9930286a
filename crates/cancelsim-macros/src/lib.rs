//! Attribute macros of cancelsim.
//!
//! This crate is not meant to be used directly. Its macros are
//! re-exported by other crates:
//!
//! | macro | re-exported as | by |
//! | --- | --- | --- |
//! | [`macro@cancelsim_test`] | `#[cancelsim::test]` | `cancelsim` |
//! | [`macro@tokio_test`] | `#[tokio::test]` | `cancelsim-tokio` (simulation build, depended on as `tokio`) |
//! | [`macro@tokio_main`] | `#[tokio::main]` | `cancelsim-tokio` (simulation build, depended on as `tokio`) |
//! | `branch_location!` (hidden) | used by `select!` | `cancelsim-tokio` (simulation build) |
//!
//! All three wrap an `async fn` without parameters. The user's body and
//! return type are kept in an inner `async fn`, so `?` and `return` behave
//! exactly as written; the outer, synchronous function hands that inner
//! function to the runtime crate's hidden `__private` module, which runs it
//! under the simulator.
//!
//! # Expansion contract
//!
//! The crate named by the `crate = "..."` argument (by default
//! `::cancelsim` for `#[cancelsim::test]` and `::tokio` for the tokio macros)
//! must provide:
//!
//! ```ignore
//! pub mod __private {
//!     // #[cancelsim::test]
//!     pub struct TestArgs {
//!         pub seeds: Option<u64>,
//!         pub scheduler: Option<&'static str>, // "fifo" | "random" | "pct:N"
//!         pub cancel: Option<&'static str>,    // "drop" | "coop" | "both" | "none"
//!         pub timeouts: Option<bool>,
//!         pub max_runs: Option<usize>,
//!         pub explore: Option<u64>,
//!         pub preset: Option<&'static str>,    // "tokio" | "cancelsim"
//!         pub body_end: Option<&'static Location<'static>>, // the body's closing brace
//!         // ... any further fields, filled from DEFAULT
//!     }
//!     impl TestArgs { pub const DEFAULT: TestArgs = /* ... */; }
//!     // Where it is called (`Location::caller()`, `#[track_caller]`).
//!     pub const fn here() -> &'static Location<'static>;
//!     pub fn test<F, Fut>(module_path: &'static str, name: &'static str, args: TestArgs, body: F)
//!     where F: Fn() -> Fut, Fut: Future /* Output = () or Result<(), E> */;
//!
//!     // #[tokio::test]
//!     pub struct TokioTestArgs {
//!         pub flavor: Option<&'static str>, // "current_thread" | "multi_thread"
//!         pub worker_threads: Option<usize>,
//!         pub start_paused: Option<bool>,
//!         pub seeds: Option<u64>,
//!         pub explore: Option<u64>,
//!         pub max_runs: Option<usize>,
//!         pub body_end: Option<&'static Location<'static>>,
//!         // ... any further fields, filled from DEFAULT
//!     }
//!     impl TokioTestArgs { pub const DEFAULT: TokioTestArgs = /* ... */; }
//!     pub fn test<F, Fut>(module_path: &'static str, name: &'static str, args: TokioTestArgs, body: F);
//!
//!     // #[tokio::main]
//!     pub fn main<F, Fut>(body: F) -> Fut::Output where F: FnOnce() -> Fut, Fut: Future;
//!     // #[tokio::main(flavor = "current_thread")]
//!     pub fn main_current_thread<F, Fut>(body: F) -> Fut::Output where F: FnOnce() -> Fut, Fut: Future;
//! }
//! ```
//!
//! The exact bounds on `body` are up to the runtime crate; the macros only
//! pass the inner `async fn` item (`__cancelsim_body` / `__cancelsim_main`)
//! by name.
//!
//! # Errors
//!
//! Mistakes are reported as `compile_error!`s at the offending token, with a
//! hint, and never as a panic of the macro: a missing `async`, parameters,
//! generics, an unknown or duplicated argument, a value of the wrong kind or
//! out of range. The user's function is emitted unchanged next to the error
//! so that it is the only diagnostic.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use proc_macro::TokenStream;

mod args;
mod duration;
mod expand;
mod located;

/// Runs an `async fn` test under the cancelsim simulator: many seeded
/// schedules, with cancellation injected at await points. Re-exported as
/// `#[cancelsim::test]`.
///
/// ```ignore
/// #[cancelsim::test(seeds = 16, scheduler = "random", cancel = "both")]
/// async fn transfer_is_atomic() -> Result<(), Error> {
///     let bank = Bank::new();
///     bank.transfer(1, 2, 100).await?;
///     assert_eq!(bank.total().await, 1_000);
///     Ok(())
/// }
/// ```
///
/// The function must be an `async fn` without parameters or generics that
/// returns `()` or `Result<(), E>`. Other attributes (`#[ignore]`,
/// `#[should_panic]`, doc comments, lint levels) are kept on the generated
/// `#[test]` function, in order.
///
/// # Arguments
///
/// All are optional; what is left out comes from
/// `cancelsim::__private::TestArgs::DEFAULT`.
///
/// | argument | value | meaning |
/// | --- | --- | --- |
/// | `seeds` | integer ≥ 1 | how many seeds (schedules) to run |
/// | `scheduler` | `"fifo"`, `"random"` or `"pct:N"` (N ≥ 1) | the scheduling strategy |
/// | `cancel` | `"drop"`, `"coop"`, `"both"` or `"none"` | how cancellation is injected |
/// | `timeouts` | `true` / `false` | whether timeouts are injected |
/// | `max_runs` | integer | an upper bound on the number of runs |
/// | `explore` | integer | exploration budget |
/// | `exhaustive` | integer | every schedule within this many deviations ([`Check::explore_exhaustively`](https://docs.rs/cancelsim/latest/cancelsim/struct.Check.html#method.explore_exhaustively)), in place of the 16 random ones unless `explore` is given |
/// | `preset` | `"tokio"` or `"cancelsim"` | a bundle of defaults |
/// | `grace` | a duration string (`"5s"`, `"250ms"`) | how long a cancelled task may take to end ([`Check::grace_time`](https://docs.rs/cancelsim/latest/cancelsim/struct.Check.html#method.grace_time); default 1 s) |
/// | `excuse_timeouts` | `true` / `false` | whether an injected timeout expiry the test fails the same way without (it checks the timeout's result) is counted instead of failed ([`Check::excuse_timeout_results`](https://docs.rs/cancelsim/latest/cancelsim/struct.Check.html#method.excuse_timeout_results); default true) |
/// | `crate` | a path as a string, e.g. `"::my::cancelsim"` | where `__private` is found (default `::cancelsim`) |
///
/// Each argument may be given at most once.
///
/// # Expansion
///
/// ```ignore
/// #[::core::prelude::v1::test]
/// /* the user's other attributes */
/// fn transfer_is_atomic() {
///     async fn __cancelsim_body() -> Result<(), Error> { /* the user's body */ }
///     ::cancelsim::__private::test(
///         ::core::module_path!(),
///         "transfer_is_atomic",
///         ::cancelsim::__private::TestArgs {
///             seeds: ::core::option::Option::Some(16u64),
///             scheduler: ::core::option::Option::Some("random"),
///             cancel: ::core::option::Option::Some("both"),
///             timeouts: ::core::option::Option::None,
///             max_runs: ::core::option::Option::None,
///             explore: ::core::option::Option::None,
///             preset: ::core::option::Option::None,
///             // At the body's closing brace: where the test ends.
///             body_end: ::core::option::Option::Some(::cancelsim::__private::here()),
///             ..::cancelsim::__private::TestArgs::DEFAULT
///         },
///         __cancelsim_body,
///     );
/// }
/// ```
#[proc_macro_attribute]
pub fn cancelsim_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::cancelsim_test(attr.into(), item.into()).into()
}

/// The simulated `#[tokio::test]`: runs an existing tokio test under the
/// cancelsim simulator. Re-exported as `tokio::test` by the simulation build
/// of `cancelsim-tokio`, so tests written against tokio compile unchanged.
///
/// ```ignore
/// #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
/// async fn serves_two_clients() {
///     let server = Server::bind().await;
///     tokio::join!(client(&server), client(&server));
/// }
/// ```
///
/// The function must be an `async fn` without parameters or generics (the
/// error for a missing `async` uses tokio's wording). Other attributes are
/// kept on the generated `#[test]` function, in order.
///
/// # Arguments
///
/// tokio's own arguments, validated as tokio does (`worker_threads` needs
/// `flavor = "multi_thread"`, `start_paused` needs the default
/// `flavor = "current_thread"`):
///
/// | argument | value |
/// | --- | --- |
/// | `flavor` | `"current_thread"` or `"multi_thread"`: the simulation has one thread either way; the schedules explored besides the baseline keep tasks in wake order for `current_thread` (as tokio's current-thread runtime runs them: a test may rely on a spawned task having run after a `yield_now`) and explore task orders too for `multi_thread` |
/// | `worker_threads` | integer ≥ 1 (accepted, no effect) |
/// | `start_paused` | `true` / `false` (accepted: the virtual clock is always paused) |
/// | `crate` | a path as a string (default `::tokio`, the facade's dependency name) |
///
/// and optionally cancelsim's own `seeds` (integer ≥ 1), `explore` and
/// `max_runs` (integers), as for [`macro@cancelsim_test`].
///
/// # Expansion
///
/// ```ignore
/// #[::core::prelude::v1::test]
/// fn serves_two_clients() {
///     async fn __cancelsim_body() { /* the user's body */ }
///     ::tokio::__private::test(
///         ::core::module_path!(),
///         "serves_two_clients",
///         ::tokio::__private::TokioTestArgs {
///             flavor: ::core::option::Option::Some("multi_thread"),
///             worker_threads: ::core::option::Option::Some(4usize),
///             start_paused: ::core::option::Option::None,
///             seeds: ::core::option::Option::None,
///             explore: ::core::option::Option::None,
///             max_runs: ::core::option::Option::None,
///             // At the body's closing brace: where the test ends.
///             body_end: ::core::option::Option::Some(::tokio::__private::here()),
///             ..::tokio::__private::TokioTestArgs::DEFAULT
///         },
///         __cancelsim_body,
///     );
/// }
/// ```
#[proc_macro_attribute]
pub fn tokio_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::tokio_test(attr.into(), item.into()).into()
}

/// The simulated `#[tokio::main]`: runs an `async fn` to completion under the
/// simulator and returns its output. Re-exported as `tokio::main` by the
/// simulation build of `cancelsim-tokio`.
///
/// ```ignore
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
///     serve(listener).await
/// }
/// ```
///
/// Any function name is accepted (not only `main`); the function must be an
/// `async fn` without parameters or generics. Its return type is kept.
///
/// # Arguments
///
/// `flavor`, `worker_threads`, `start_paused` and `crate`, validated as for
/// [`macro@tokio_test`] except that the default flavor is `"multi_thread"`,
/// as in tokio. The runtime arguments are checked but have no effect on the
/// simulation.
///
/// # Expansion
///
/// ```ignore
/// fn main() -> std::io::Result<()> {
///     async fn __cancelsim_main() -> std::io::Result<()> { /* the user's body */ }
///     ::tokio::__private::main(__cancelsim_main)
/// }
/// ```
#[proc_macro_attribute]
pub fn tokio_main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::tokio_main(attr.into(), item.into()).into()
}

/// Where the expression it is given starts (`&'static
/// Location<'static>`, at run time): the simulated `select!` of
/// `cancelsim-tokio` locates each branch's future with it. Not a public
/// API.
///
/// ```ignore
/// // `branch_location!(rx.recv())` expands to, spanned at `rx`:
/// ::core::panic::Location::caller()
/// ```
#[doc(hidden)]
#[proc_macro]
pub fn branch_location(input: TokenStream) -> TokenStream {
    located::branch_location(input.into()).into()
}

#[cfg(test)]
mod tests;
