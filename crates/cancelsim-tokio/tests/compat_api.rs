//! tokio API a service uses that "should just exist" (`task::coop`,
//! `unconstrained`, `Runtime::enter`, `Handle::runtime_flavor`,
//! `JoinSet::*_on`, the runtime `Builder`'s tuning options, `LocalRuntime`)
//! against real tokio: the same program on tokio's paused current-thread
//! runtime and on the facade (see `compat.rs`); the logs must agree, or
//! differ exactly as documented here.
#![cfg(cancelsim)]

use std::sync::Arc;
use std::time::Duration;

#[macro_use]
mod common;
use common::Log;

/// Runs `f` with the facade's `spawn_blocking` cost set to zero (tokio's
/// blocking pool takes no virtual time), then restores the default.
fn at_zero_blocking_cost<R>(f: impl FnOnce() -> R) -> R {
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::ZERO);
    let out = f();
    cancelsim_tokio::cancelsim::set_blocking_cost(Duration::from_millis(1));
    out
}

/// The text of a panic payload.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn coop_items_and_unconstrained_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        use rt::task::coop;
        note!(log, start, "budget left {}", coop::has_budget_remaining());
        let value = coop::unconstrained(async {
            rt::time::sleep(Duration::from_millis(5)).await;
            3
        })
        .await;
        note!(log, start, "unconstrained gave {value}");
        let value = coop::cooperative(async {
            rt::time::sleep(Duration::from_millis(5)).await;
            4
        })
        .await;
        note!(log, start, "cooperative gave {value}");
        coop::consume_budget().await;
        note!(log, start, "consumed budget");
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 4);
    assert_eq!(sim[2].0, 10);
}

/// `tokio::task::unconstrained` is deprecated in tokio 1.44+ in favour of
/// `task::coop::unconstrained`; the facade keeps both (undeprecated, as
/// the facade accepts tokio ≥ 1.40 code).
#[test]
fn task_unconstrained_exists_facade_only() {
    let value = cancelsim_tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(cancelsim_tokio::task::unconstrained(async { 5 }));
    assert_eq!(value, 5);
    let _: fn(
        std::future::Ready<u8>,
    ) -> cancelsim_tokio::task::Unconstrained<std::future::Ready<u8>> =
        cancelsim_tokio::task::unconstrained;
}

#[test]
fn runtime_flavor_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let flavor = rt::runtime::Handle::current().runtime_flavor();
        note!(log, start, "{flavor:?}");
        let in_task = rt::spawn(async { rt::runtime::Handle::current().runtime_flavor() })
            .await
            .unwrap();
        note!(log, start, "in a task {in_task:?}");
    });
    assert_eq!(real, sim);
    assert_eq!(sim[0].1, "CurrentThread");
    // A multi-thread runtime (real tokio's cannot pause its clock: only the
    // flavor is compared).
    let real = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
        .block_on(async { tokio::runtime::Handle::current().runtime_flavor() });
    let sim = cancelsim_tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
        .block_on(async { cancelsim_tokio::runtime::Handle::current().runtime_flavor() });
    assert_eq!(format!("{real:?}"), format!("{sim:?}"));
    assert_eq!(sim, cancelsim_tokio::runtime::RuntimeFlavor::MultiThread);
    let sim = cancelsim_tokio::runtime::Runtime::new()
        .unwrap()
        .handle()
        .runtime_flavor();
    assert_eq!(
        sim,
        cancelsim_tokio::runtime::RuntimeFlavor::MultiThread,
        "Runtime::new is multi-thread, as tokio's"
    );
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio", flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_thread_test_reports_its_flavor() {
    let flavor = cancelsim_tokio::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, cancelsim_tokio::runtime::RuntimeFlavor::MultiThread);
}

#[cancelsim_tokio::test(crate = "cancelsim_tokio")]
async fn a_default_test_is_current_thread() {
    let flavor = cancelsim_tokio::runtime::Handle::current().runtime_flavor();
    assert_eq!(
        flavor,
        cancelsim_tokio::runtime::RuntimeFlavor::CurrentThread
    );
}

#[test]
fn enter_inside_the_runtime_agrees_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let handle = rt::runtime::Handle::current();
        let task = {
            let _guard = handle.enter();
            rt::spawn(async { 8 })
        };
        note!(log, start, "spawned under enter: {}", task.await.unwrap());
        note!(
            log,
            start,
            "still in the runtime: {}",
            rt::runtime::Handle::try_current().is_ok()
        );
    });
    assert_eq!(real, sim);
}

/// Outside `block_on`, `enter` makes `Handle::current()` find the runtime
/// in both. tokio then also runs a `spawn` made there; a simulated runtime
/// runs tasks only inside its `block_on`, so the facade's `spawn` panics
/// saying so.
#[test]
fn enter_outside_block_on_finds_the_handle_and_explains_spawn() {
    let real = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let sim = cancelsim_tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(tokio::runtime::Handle::try_current().is_err());
    assert!(cancelsim_tokio::runtime::Handle::try_current().is_err());
    {
        let _real = real.enter();
        let _sim = sim.enter();
        assert_eq!(
            format!("{:?}", tokio::runtime::Handle::current().runtime_flavor()),
            format!(
                "{:?}",
                cancelsim_tokio::runtime::Handle::current().runtime_flavor()
            )
        );
        let caught = std::panic::catch_unwind(|| drop(cancelsim_tokio::spawn(async {})))
            .expect_err("no simulation to spawn into");
        let message = panic_text(&*caught);
        assert!(message.contains("Runtime::enter()"), "{message}");
        assert!(message.contains("block_on"), "{message}");
    }
    let error = cancelsim_tokio::runtime::Handle::try_current().unwrap_err();
    assert!(error.is_missing_context() && !error.is_thread_local_destroyed());
    assert!(tokio::runtime::Handle::try_current().is_err());
}

#[test]
fn join_set_spawn_on_variants_agree_with_tokio() {
    let (real, sim) = at_zero_blocking_cost(|| {
        both!(|rt, log, start| async move {
            let handle = rt::runtime::Handle::current();
            let local = rt::task::LocalSet::new();
            local
                .run_until(async {
                    let mut set = rt::task::JoinSet::new();
                    set.spawn_on(
                        async {
                            rt::time::sleep(Duration::from_millis(10)).await;
                            1
                        },
                        &handle,
                    );
                    set.spawn_local_on(
                        async {
                            rt::time::sleep(Duration::from_millis(20)).await;
                            2
                        },
                        &local,
                    );
                    set.spawn_blocking_on(|| 3, &handle);
                    note!(log, start, "len {}", set.len());
                    let mut got = Vec::new();
                    while let Some(next) = set.join_next_with_id().await {
                        got.push(next.unwrap().1);
                        note!(log, start, "joined {got:?}");
                    }
                })
                .await;
        })
    });
    assert_eq!(real, sim);
    assert_eq!(sim.last().unwrap(), &(20, "joined [3, 1, 2]".to_string()));
}

#[test]
fn join_set_poll_and_try_join_with_id_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        let mut set = rt::task::JoinSet::new();
        let first = set.spawn(async { 7 }).id();
        note!(
            log,
            start,
            "nothing yet: {}",
            set.try_join_next_with_id().is_none()
        );
        rt::time::sleep(Duration::from_millis(1)).await;
        let (id, value) = set.try_join_next_with_id().unwrap().unwrap();
        note!(log, start, "try: {value}, same id {}", id == first);
        set.spawn(async {
            rt::time::sleep(Duration::from_millis(4)).await;
            8
        });
        let value = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
        note!(log, start, "polled: {:?}", value.map(|r| r.unwrap()));
        let empty = std::future::poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
        note!(log, start, "empty: {}", empty.is_none());
    });
    assert_eq!(real, sim);
    assert_eq!(sim.len(), 4);
}

#[test]
fn builder_tuning_options_are_accepted_and_change_nothing() {
    let real = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .on_thread_start(|| {})
        .on_thread_stop(|| {})
        .on_thread_park(|| {})
        .on_thread_unpark(|| {})
        .thread_stack_size(4 << 20)
        .thread_keep_alive(Duration::from_secs(1))
        .global_queue_interval(31)
        .event_interval(61)
        .thread_name("worker")
        .thread_name_fn(|| "worker".to_string())
        .max_io_events_per_tick(512)
        .max_blocking_threads(4)
        .build()
        .unwrap()
        .block_on(async {
            let start = tokio::time::Instant::now();
            tokio::time::sleep(Duration::from_millis(3)).await;
            start.elapsed()
        });
    let sim = cancelsim_tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .on_thread_start(|| {})
        .on_thread_stop(|| {})
        .on_thread_park(|| {})
        .on_thread_unpark(|| {})
        .thread_stack_size(4 << 20)
        .thread_keep_alive(Duration::from_secs(1))
        .global_queue_interval(31)
        .event_interval(61)
        .thread_name("worker")
        .thread_name_fn(|| "worker".to_string())
        .max_io_events_per_tick(512)
        .max_blocking_threads(4)
        // tokio_unstable only in tokio: accepted here all the same.
        .disable_lifo_slot()
        .build()
        .unwrap()
        .block_on(async {
            let start = cancelsim_tokio::time::Instant::now();
            cancelsim_tokio::time::sleep(Duration::from_millis(3)).await;
            start.elapsed()
        });
    assert_eq!(real, sim);
    assert_eq!(sim, Duration::from_millis(3));
}

#[test]
fn local_runtime_agrees_with_tokio() {
    let run_real = || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build_local(Default::default())
            .unwrap();
        runtime.block_on(async {
            let start = tokio::time::Instant::now();
            let shared = std::rc::Rc::new(5); // not Send: a local task may hold it
            let task = tokio::task::spawn_local(async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                *shared + 1
            });
            let flavor = tokio::runtime::Handle::current().runtime_flavor();
            (task.await.unwrap(), start.elapsed(), format!("{flavor:?}"))
        })
    };
    let run_sim = || {
        let runtime = cancelsim_tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build_local(Default::default())
            .unwrap();
        runtime.block_on(async {
            let start = cancelsim_tokio::time::Instant::now();
            let shared = std::rc::Rc::new(5);
            let task = cancelsim_tokio::task::spawn_local(async move {
                cancelsim_tokio::time::sleep(Duration::from_millis(2)).await;
                *shared + 1
            });
            let flavor = cancelsim_tokio::runtime::Handle::current().runtime_flavor();
            (task.await.unwrap(), start.elapsed(), format!("{flavor:?}"))
        })
    };
    assert_eq!(run_real(), run_sim());
    let caught = std::panic::catch_unwind(|| {
        cancelsim_tokio::runtime::Builder::new_multi_thread().build_local(Default::default())
    })
    .expect_err("as tokio");
    assert_eq!(
        panic_text(&*caught),
        "multi_thread is not supported for LocalRuntime"
    );
}

#[test]
fn worker_index_and_shutdown_error_agree_with_tokio() {
    let (real, sim) = both!(|rt, log, start| async move {
        note!(log, start, "worker {:?}", rt::runtime::worker_index());
        let error =
            std::io::Error::other("A Tokio 1.x context was found, but it is being shutdown.");
        note!(
            log,
            start,
            "shutdown error {}, other {}",
            rt::runtime::is_rt_shutdown_err(&error),
            rt::runtime::is_rt_shutdown_err(&std::io::Error::other("boom"))
        );
    });
    assert_eq!(real, sim);
    assert_eq!(tokio::runtime::worker_index(), None);
    assert_eq!(cancelsim_tokio::runtime::worker_index(), None);
}

#[test]
fn the_timer_error_type_agrees_with_tokio() {
    use cancelsim_tokio::time::error::Error as Sim;
    use tokio::time::error::Error as Real;
    let real = [Real::shutdown(), Real::at_capacity(), Real::invalid()];
    let sim = [Sim::shutdown(), Sim::at_capacity(), Sim::invalid()];
    for (real, sim) in real.iter().zip(&sim) {
        assert_eq!(real.to_string(), sim.to_string());
        assert_eq!(
            (real.is_shutdown(), real.is_at_capacity(), real.is_invalid()),
            (sim.is_shutdown(), sim.is_at_capacity(), sim.is_invalid())
        );
    }
}

/// Same seed, identical trace, with the new items in the program.
#[test]
fn same_seed_same_trace_with_coop_enter_and_join_set_on() {
    let program = || async {
        let handle = cancelsim_tokio::runtime::Handle::current();
        let _guard = handle.enter();
        let mut set = cancelsim_tokio::task::JoinSet::new();
        for ms in [3u64, 1, 2] {
            set.spawn_on(
                cancelsim_tokio::task::coop::unconstrained(async move {
                    cancelsim_tokio::time::sleep(Duration::from_millis(ms)).await;
                    ms
                }),
                &handle,
            );
        }
        let mut order = Vec::new();
        while let Some(done) = set.join_next().await {
            order.push(done.unwrap());
        }
        order
    };
    let run = |seed| {
        let config = cancelsim::Config::default()
            .seed(seed)
            .scheduler(cancelsim::SchedulerKind::Random);
        let mut sim = cancelsim::Sim::new(config);
        let order = sim.block_on(program()).unwrap();
        (order, sim.trace().to_string())
    };
    let (order, trace) = run(11);
    assert_eq!(order, [1, 2, 3]);
    assert_eq!(run(11).1, trace);
}
