//! proptest over cancellation plans shrinks to the one injection that
//! matters, and a persisted plan replays the same run.

#![cfg(feature = "proptest")]

use cancelsim::ViolationCode;
use std::future::Future;
use std::mem::ManuallyDrop;

use cancelsim::cancel::{Cancelled, OrCancel};
use cancelsim::strategy::{arb_plan, await_points, run_plan};
use cancelsim::time::sleep;
use cancelsim::{spawn_named, CancelMode, Check, InjectAt, Injection, InjectionKind, Repro};
use cancelsim::{SchedulerKind, TaskId};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};

mod common;
use common::ms;

const WORKERS: u64 = 30;
const BUGGY: u64 = 17;

/// 30 workers with three await points each; worker 17 borrows a connection
/// across its second await point and returns it on the success path only.
/// `fixed` returns it on every path.
fn pool(fixed: bool) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
    move || {
        Box::pin(async move {
            let mut handles = Vec::new();
            for index in 0..WORKERS {
                let worker = async move {
                    sleep(ms(10)).or_cancel().await?;
                    if index == BUGGY {
                        let conn = cancelsim::resource::acquire("conn");
                        let conn = if fixed {
                            Ok(conn)
                        } else {
                            Err(ManuallyDrop::new(conn))
                        };
                        sleep(ms(5)).or_cancel().await?;
                        match conn {
                            Ok(conn) => conn.release(),
                            Err(conn) => ManuallyDrop::into_inner(conn).release(),
                        }
                    } else {
                        sleep(ms(5 + index % 4)).or_cancel().await?;
                    }
                    sleep(ms(10 + index)).or_cancel().await?;
                    Ok::<(), Cancelled>(())
                };
                handles.push(spawn_named(&format!("worker-{index}"), worker).abort_on_drop());
            }
            for handle in handles {
                let _ = handle.await;
            }
        })
    }
}

fn buggy_task() -> TaskId {
    // Task ids are handed out in spawn order after the root (0).
    let points = await_points(&pool(false), 0, SchedulerKind::Fifo);
    points
        .iter()
        .find(|p| p.task_name.as_deref() == Some("worker-17"))
        .expect("worker-17 suspends")
        .task
}

#[test]
fn only_one_await_point_of_one_worker_leaks() {
    let report = Check::new(pool(false))
        .cancel_at_every_await(CancelMode::Both)
        .threads(2)
        .run();
    assert!(
        report.counts().await_points > 90,
        "{}",
        report.counts().await_points
    );
    let mut failing: Vec<(TaskId, u32)> = report
        .failures()
        .iter()
        .map(|failure| {
            assert!(failure.has(ViolationCode::LeakedResource), "{failure:?}");
            let injection = failure.repro().injections[0];
            (injection.task, injection.point)
        })
        .collect();
    failing.dedup();
    assert_eq!(failing, vec![(buggy_task(), 2)], "{report}");
    Check::new(pool(true))
        .cancel_at_every_await(CancelMode::Both)
        .threads(2)
        .run()
        .assert_clean();
}

#[test]
fn proptest_shrinks_to_the_one_injection_fifo_seed_zero() {
    let body = pool(false);
    let points = await_points(&body, 0, SchedulerKind::Fifo);
    assert!(
        points.len() > 90,
        "dozens of await points: {}",
        points.len()
    );
    let config = ProptestConfig {
        cases: 4_000,
        failure_persistence: None,
        max_shrink_iters: 10_000,
        ..ProptestConfig::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let result = runner.run(&arb_plan(points, 0..1_000), |repro| {
        run_plan(&body, &repro).check()
    });
    let Err(error @ proptest::test_runner::TestError::Fail(..)) = result else {
        panic!("proptest did not find the leak: {result:?}");
    };
    // What proptest prints: the shrunk case is the repro line itself.
    assert!(
        error.to_string().ends_with(
            "minimal failing input: cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@18:2"
        ),
        "{error}"
    );
    let proptest::test_runner::TestError::Fail(reason, minimal) = error else {
        unreachable!()
    };
    let message = reason.message();
    assert!(
        message.contains("leaked-resource") && message.contains("replay: CANCELSIM_REPLAY="),
        "{message}"
    );
    assert_eq!(
        minimal,
        Repro::new(
            0,
            SchedulerKind::Fifo,
            vec![Injection::new(
                buggy_task(),
                2,
                InjectionKind::CancelDrop,
                InjectAt::Suspend
            )],
        ),
        "shrunk to {minimal}"
    );
    assert_eq!(
        minimal.to_string(),
        "cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@18:2"
    );
}

#[test]
fn a_persisted_plan_replays_the_same_trace() {
    let repro: Repro = format!(
        "cancelsim:v1 seed=5 scheduler=random inject=cancel-coop@{}:2/wake,cancel-drop@3:1",
        buggy_task().as_u32()
    )
    .parse()
    .unwrap();
    let body = pool(false);
    let first = run_plan(&body, &repro);
    let second = run_plan(&body, &repro);
    assert_eq!(first.trace.to_string(), second.trace.to_string());
    assert_eq!(first.trace.to_json_lines(), second.trace.to_json_lines());
    assert_eq!(first.violations, second.violations);
    assert!(
        first.has(ViolationCode::LeakedResource),
        "{}",
        first.failure_text()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The fixed pool survives any plan; a failure here would be persisted in
    /// `proptest-regressions/proptest_shrink.txt` and replayed first next time.
    #[test]
    fn the_fixed_pool_survives_any_plan(
        repro in arb_plan(await_points(&pool(true), 0, SchedulerKind::Fifo), 0..64)
    ) {
        run_plan(&pool(true), &repro).check()?;
    }
}
