//! The simulated `#[tokio::test]` / `#[tokio::main]` compiled for real
//! against a stand-in for `tokio::__private` (this test crate names itself
//! `tokio`, as the `cancelsim-tokio` facade is named by its users).

#![forbid(unsafe_code)]

extern crate self as tokio;

use cancelsim_macros::{tokio_main, tokio_test};

/// The stand-in for the facade's entry points.
pub mod __private {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    #[derive(Clone, Debug, PartialEq)]
    pub struct TokioTestArgs {
        pub flavor: Option<&'static str>,
        pub worker_threads: Option<usize>,
        pub start_paused: Option<bool>,
        pub seeds: Option<u64>,
        pub explore: Option<u64>,
        pub max_runs: Option<usize>,
        pub body_end: Option<&'static std::panic::Location<'static>>,
        pub extra: bool,
    }

    impl TokioTestArgs {
        pub const DEFAULT: TokioTestArgs = TokioTestArgs {
            flavor: None,
            worker_threads: None,
            start_paused: None,
            seeds: None,
            explore: None,
            max_runs: None,
            body_end: None,
            extra: true,
        };
    }

    #[track_caller]
    pub const fn here() -> &'static std::panic::Location<'static> {
        std::panic::Location::caller()
    }

    thread_local! {
        static CURRENT: RefCell<Option<(&'static str, TokioTestArgs)>> = const { RefCell::new(None) };
    }

    pub fn current() -> (&'static str, TokioTestArgs) {
        CURRENT
            .with(|c| c.borrow().clone())
            .expect("called from a test body")
    }

    pub trait TestOutput {
        fn check(self);
    }
    impl TestOutput for () {
        fn check(self) {}
    }
    impl<E: std::fmt::Debug> TestOutput for Result<(), E> {
        fn check(self) {
            if let Err(e) = self {
                panic!("test returned Err: {e:?}");
            }
        }
    }

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn block_on<F: Future>(fut: F) -> F::Output {
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    pub fn test<F, Fut>(
        _module_path: &'static str,
        name: &'static str,
        args: TokioTestArgs,
        body: F,
    ) where
        F: Fn() -> Fut,
        Fut: Future,
        Fut::Output: TestOutput,
    {
        CURRENT.with(|c| *c.borrow_mut() = Some((name, args)));
        block_on(body()).check();
    }

    pub fn main<F, Fut>(body: F) -> Fut::Output
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        block_on(body())
    }

    pub fn main_current_thread<F, Fut>(body: F) -> Fut::Output
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        block_on(body())
    }
}

#[tokio_test]
async fn plain() {
    let (name, args) = __private::current();
    assert_eq!(name, "plain");
    assert!(args.body_end.is_some());
    assert_eq!(
        __private::TokioTestArgs {
            body_end: None,
            ..args
        },
        __private::TokioTestArgs::DEFAULT
    );
}

#[tokio_test(
    flavor = "multi_thread",
    worker_threads = 4,
    seeds = 8,
    explore = 2,
    max_runs = 100
)]
async fn all_arguments_arrive() -> Result<(), String> {
    let (_, args) = __private::current();
    assert_eq!(
        args,
        __private::TokioTestArgs {
            flavor: Some("multi_thread"),
            worker_threads: Some(4),
            start_paused: None,
            seeds: Some(8),
            explore: Some(2),
            max_runs: Some(100),
            body_end: args.body_end,
            extra: true,
        }
    );
    let n: u8 = "7".parse().map_err(|e| format!("{e}"))?;
    assert_eq!(n, 7);
    // The body ends at the closing brace, after `Ok(())`.
    let end = args.body_end.expect("the macro passes the body's end");
    assert_eq!((end.file(), end.line()), (file!(), line!() + 2));
    Ok(())
}

#[tokio_test(start_paused = true, crate = "crate")]
#[should_panic(expected = "test returned Err")]
async fn err_fails_and_crate_path_is_used() -> Result<(), String> {
    assert_eq!(crate::__private::current().1.start_paused, Some(true));
    Err("nope".to_owned())
}

#[tokio_main]
async fn entry() -> Result<u32, String> {
    let x: u32 = "41".parse().map_err(|_| "bad".to_owned())?;
    Ok(x + 1)
}

#[tokio_main(flavor = "current_thread", start_paused = true)]
async fn entry_unit() {}

#[test]
fn main_keeps_the_return_type() {
    assert_eq!(entry(), Ok(42));
    entry_unit();
}
