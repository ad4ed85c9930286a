//! `#[cancelsim_test]` compiled for real against a stand-in for
//! `cancelsim::__private` (this test crate names itself `cancelsim`), so the
//! expansion is checked by rustc: it type-checks, `?` works in the body, the
//! arguments arrive as written, and `#[should_panic]` / `#[ignore]` apply.

#![forbid(unsafe_code)]

extern crate self as cancelsim;

use cancelsim_macros::cancelsim_test;

/// The stand-in for the real harness entry points.
pub mod __private {
    use std::cell::RefCell;
    use std::future::Future;
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    /// Mirrors the fields the macro fills, plus one it does not.
    #[derive(Clone, Debug, PartialEq)]
    pub struct TestArgs {
        pub seeds: Option<u64>,
        pub scheduler: Option<&'static str>,
        pub cancel: Option<&'static str>,
        pub timeouts: Option<bool>,
        pub max_runs: Option<usize>,
        pub explore: Option<u64>,
        pub preset: Option<&'static str>,
        pub grace_ms: Option<u64>,
        pub body_end: Option<&'static std::panic::Location<'static>>,
        pub not_set_by_the_macro: u32,
    }

    #[track_caller]
    pub const fn here() -> &'static std::panic::Location<'static> {
        std::panic::Location::caller()
    }

    impl TestArgs {
        pub const DEFAULT: TestArgs = TestArgs {
            seeds: None,
            scheduler: None,
            cancel: None,
            timeouts: None,
            max_runs: None,
            explore: None,
            preset: None,
            grace_ms: None,
            body_end: None,
            not_set_by_the_macro: 7,
        };
    }

    /// What the running test was called with.
    #[derive(Clone, Debug)]
    pub struct Call {
        pub module_path: &'static str,
        pub name: &'static str,
        pub args: TestArgs,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Call>> = const { RefCell::new(None) };
    }

    /// The call of the test running on this thread (libtest runs each test
    /// on its own thread and the body runs on it too).
    pub fn current() -> Call {
        CURRENT
            .with(|c| c.borrow().clone())
            .expect("called from a test body")
    }

    /// What a test body may return.
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

    pub fn block_on<F: Future>(fut: F) -> F::Output {
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    pub fn test<F, Fut>(module_path: &'static str, name: &'static str, args: TestArgs, body: F)
    where
        F: Fn() -> Fut,
        Fut: Future,
        Fut::Output: TestOutput,
    {
        CURRENT.with(|c| {
            *c.borrow_mut() = Some(Call {
                module_path,
                name,
                args,
            })
        });
        block_on(body()).check();
    }
}

/// Yields once, so the body really is polled more than once.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

#[cancelsim_test(
    seeds = 16,
    scheduler = "pct:3",
    cancel = "both",
    timeouts = true,
    max_runs = 500,
    explore = 32,
    preset = "tokio",
    grace = "1.5s"
)]
async fn all_arguments_arrive() {
    yield_once().await;
    let call = __private::current();
    assert_eq!(call.name, "all_arguments_arrive");
    assert_eq!(call.module_path, module_path!());
    assert_eq!(
        call.args,
        __private::TestArgs {
            seeds: Some(16),
            scheduler: Some("pct:3"),
            cancel: Some("both"),
            timeouts: Some(true),
            max_runs: Some(500),
            explore: Some(32),
            preset: Some("tokio"),
            grace_ms: Some(1500),
            body_end: call.args.body_end,
            not_set_by_the_macro: 7,
        }
    );
    // The body ends at the closing brace, on the next line.
    let end = call.args.body_end.expect("the macro passes the body's end");
    assert_eq!((end.file(), end.line()), (file!(), line!() + 1));
}

#[cancelsim_test]
async fn no_arguments_means_defaults() {
    let args = __private::current().args;
    assert!(args.body_end.is_some());
    assert_eq!(
        __private::TestArgs {
            body_end: None,
            ..args
        },
        __private::TestArgs::DEFAULT
    );
}

#[derive(Debug)]
struct MyError;

fn fallible(ok: bool) -> Result<u32, MyError> {
    if ok {
        Ok(1)
    } else {
        Err(MyError)
    }
}

#[cancelsim_test(seeds = 2)]
async fn question_mark_and_return_work() -> Result<(), MyError> {
    let one = fallible(true)?;
    if one == 1 {
        return Ok(());
    }
    unreachable!()
}

#[cancelsim_test]
#[should_panic(expected = "test returned Err: MyError")]
async fn err_result_fails_the_test() -> Result<(), MyError> {
    yield_once().await;
    fallible(false)?;
    Ok(())
}

/// Doc comments are kept; so is `#[ignore]` (this one would fail).
#[cancelsim_test]
#[ignore = "must not run"]
async fn ignored_test_is_ignored() {
    panic!("an #[ignore]d test ran");
}

mod nested {
    use super::cancelsim_test;

    const EXPECTED: u64 = 3;

    #[cancelsim_test(seeds = 3, crate = "crate")]
    pub(crate) async fn sees_module_items_and_module_path() {
        let call = crate::__private::current();
        assert_eq!(call.args.seeds, Some(EXPECTED));
        assert!(
            call.module_path.ends_with("::nested"),
            "{}",
            call.module_path
        );
    }
}

macro_rules! sim_test {
    ($name:ident, $seeds:expr, $cancel:expr) => {
        #[cancelsim_test(seeds = $seeds, cancel = $cancel)]
        async fn $name() {
            assert_eq!(__private::current().args.seeds, Some($seeds));
            assert_eq!(__private::current().args.cancel, Some($cancel));
        }
    };
}

sim_test!(from_macro_rules, 5, "coop");

#[cancelsim_test]
async fn r#async() {
    assert_eq!(__private::current().name, "async");
}
