//! The executor: spawning, joining, yielding, aborting, panics, and the ways a
//! run stops without its root finishing (deadlock, step and time budgets).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::{sleep, Instant};
use cancelsim::trace::WaitKind;
use cancelsim::{spawn, spawn_named, yield_now, Config, JoinHandle, Sim, SimError};
use futures::channel::oneshot;

mod common;
use common::{drop_flag, sim};

/// Seed of the simulations of this file.
const SEED: u64 = 1;

#[test]
fn spawned_tasks_hand_their_values_to_the_joiner() {
    let out = sim(SEED)
        .block_on(async {
            let answer = spawn(async { 6 * 7 });
            let greeting = spawn(async { String::from("hello") });
            (answer.await.unwrap(), greeting.await.unwrap())
        })
        .unwrap();
    assert_eq!(out, (42, String::from("hello")));
}

#[test]
fn spawn_named_shows_the_name_in_the_trace() {
    let mut sim = sim(SEED);
    let id = sim
        .block_on(async {
            let fetch = spawn_named("fetch", async { yield_now().await });
            let id = fetch.id();
            fetch.await.unwrap();
            id
        })
        .unwrap();
    let text = sim.trace().to_string();
    assert_eq!(sim.trace().task_name(id), Some("fetch"));
    assert!(
        text.contains(&format!("spawn fetch{id} at tests/executor.rs:")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.contains(&format!("fetch{id}"))
                && line.ends_with("completed: returned")),
        "{text}"
    );
}

#[test]
fn yield_now_interleaves_tasks_round_robin_under_fifo() {
    let log = Rc::new(RefCell::new(Vec::new()));
    sim(SEED)
        .block_on({
            let log = Rc::clone(&log);
            async move {
                let tasks: Vec<JoinHandle<()>> = ["a", "b", "c"]
                    .into_iter()
                    .map(|name| {
                        let log = Rc::clone(&log);
                        spawn(async move {
                            for round in 0..3 {
                                log.borrow_mut().push(format!("{name}{round}"));
                                yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }
        })
        .unwrap();
    assert_eq!(
        *log.borrow(),
        ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]
    );
}

#[test]
fn abort_drops_the_future_before_it_returns() {
    sim(SEED)
        .block_on(async {
            let (guard, dropped) = drop_flag();
            let task = spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(1)).await;
            });
            yield_now().await; // the task runs and suspends in its sleep
            assert!(!dropped.get());
            task.abort();
            assert!(dropped.get(), "abort must drop the future at once");
            let error = task.await.unwrap_err();
            assert!(error.is_cancelled());
            assert!(!error.is_panic());
            assert_eq!(error.panic_message(), None);
            assert_eq!(Instant::now(), Instant::ZERO, "the sleep never ran out");
        })
        .unwrap();
}

#[test]
fn abort_before_the_first_poll_drops_the_future_unpolled() {
    sim(SEED)
        .block_on(async {
            let (guard, dropped) = drop_flag();
            let polled = Rc::new(Cell::new(false));
            let task = spawn({
                let polled = Rc::clone(&polled);
                async move {
                    let _guard = guard;
                    polled.set(true);
                }
            });
            task.abort();
            assert!(dropped.get());
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(!polled.get());
        })
        .unwrap();
}

#[test]
fn abort_after_the_task_finished_keeps_its_value() {
    let out = sim(SEED)
        .block_on(async {
            let task = spawn(async { 5 });
            yield_now().await;
            assert!(task.is_finished());
            task.abort();
            task.await
        })
        .unwrap();
    assert_eq!(out.unwrap(), 5);
}

#[test]
fn a_task_aborting_itself_is_dropped_at_its_next_await_point() {
    sim(SEED)
        .block_on(async {
            let own_handle: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::new(RefCell::new(None));
            let (guard, dropped) = drop_flag();
            let resumed = Rc::new(Cell::new(false));
            let task = spawn({
                let own_handle = Rc::clone(&own_handle);
                let resumed = Rc::clone(&resumed);
                async move {
                    let _guard = guard;
                    own_handle.borrow().as_ref().unwrap().abort();
                    yield_now().await;
                    resumed.set(true);
                }
            });
            *own_handle.borrow_mut() = Some(task);
            yield_now().await; // the task runs, aborts itself, suspends
            assert!(dropped.get());
            assert!(!resumed.get());
            let task = own_handle.borrow_mut().take().unwrap();
            assert!(task.is_finished());
            assert!(task.await.unwrap_err().is_cancelled());
        })
        .unwrap();
}

/// The line of `text` whose task column is `task` and whose event starts
/// with `event` (the columns of the trace's text form).
fn trace_line<'a>(text: &'a str, task: &str, event: &str) -> Option<&'a str> {
    text.lines().find(|line| {
        let mut columns = line.split_whitespace().skip(2);
        columns.next() == Some(task) && columns.collect::<Vec<_>>().join(" ").starts_with(event)
    })
}

#[test]
fn the_trace_says_which_task_aborted_a_task() {
    let mut sim = sim(SEED);
    let (victim, killer) = sim
        .block_on(async {
            let victim = spawn_named("victim", sleep(Duration::from_millis(50)));
            let victim_id = victim.id();
            yield_now().await; // the victim starts its sleep
            let killer = spawn_named("killer", async move {
                victim.abort();
                assert!(victim.await.unwrap_err().is_cancelled());
            });
            let killer_id = killer.id();
            killer.await.unwrap();
            (victim_id, killer_id)
        })
        .unwrap();
    let text = sim.trace().to_string();
    let victim = format!("victim{victim}");
    let killer = format!("killer{killer}");
    assert!(
        trace_line(
            &text,
            &victim,
            &format!("aborted by {killer} at tests/executor.rs:")
        )
        .is_some_and(|line| line.ends_with(": future dropped")),
        "the victim's abort names the killer:\n{text}"
    );
    assert!(
        trace_line(&text, &victim, "completed: aborted").is_some(),
        "{text}"
    );
    assert!(!text.contains("aborted by main"), "{text}");
}

#[test]
fn the_trace_says_when_the_root_aborted_a_task() {
    let mut sim = sim(SEED);
    let victim = sim
        .block_on(async {
            let victim = spawn_named("victim", sleep(Duration::from_millis(50)));
            yield_now().await;
            victim.abort();
            victim.id()
        })
        .unwrap();
    let text = sim.trace().to_string();
    assert!(
        trace_line(
            &text,
            &format!("victim{victim}"),
            "aborted by main#0 at tests/executor.rs:"
        )
        .is_some_and(|line| line.ends_with(": future dropped")),
        "{text}"
    );
}

#[test]
fn dropping_a_join_handle_neither_cancels_nor_aborts_the_task() {
    sim(SEED)
        .block_on(async {
            let (guard, dropped) = drop_flag();
            let finished_at = Rc::new(Cell::new(None));
            let task = spawn({
                let finished_at = Rc::clone(&finished_at);
                async move {
                    let _guard = guard;
                    sleep(Duration::from_millis(10)).await;
                    finished_at.set(Some(Instant::now()));
                }
            });
            yield_now().await;
            drop(task);
            assert!(!dropped.get());
            sleep(Duration::from_millis(20)).await;
            assert_eq!(
                finished_at.get().map(Instant::since_start),
                Some(Duration::from_millis(10))
            );
            assert!(dropped.get());
        })
        .unwrap();
}

#[test]
fn abort_on_drop_handle_aborts_its_task_when_dropped() {
    sim(SEED)
        .block_on(async {
            let (guard, dropped) = drop_flag();
            let finished = Rc::new(Cell::new(false));
            let task = spawn({
                let finished = Rc::clone(&finished);
                async move {
                    let _guard = guard;
                    sleep(Duration::from_millis(10)).await;
                    finished.set(true);
                }
            })
            .abort_on_drop();
            yield_now().await;
            assert!(!task.is_finished());
            drop(task);
            assert!(dropped.get(), "dropping the handle aborts the task at once");
            sleep(Duration::from_millis(20)).await;
            assert!(!finished.get());
        })
        .unwrap();
}

#[test]
fn abort_on_drop_handle_still_joins() {
    let out = sim(SEED)
        .block_on(async {
            let task = spawn(async {
                sleep(Duration::from_millis(3)).await;
                "done"
            })
            .abort_on_drop();
            task.await
        })
        .unwrap();
    assert_eq!(out.unwrap(), "done");
}

/// What `Sim` does with a task alive when the root ends: it keeps it, and the
/// next `block_on` runs it on. A task whose handle was merely dropped does the
/// same here; telling the two apart is the `leaked-task` oracle's job (see
/// `tests/oracles/leaked_tasks.rs`, "background work: detached, or its handle just
/// dropped").
#[test]
fn a_detached_task_outlives_the_root_and_runs_on_in_the_next_block_on() {
    let mut sim = sim(SEED);
    let finished = Rc::new(Cell::new(false));
    sim.block_on({
        let finished = Rc::clone(&finished);
        async move {
            spawn(async move {
                sleep(Duration::from_millis(10)).await;
                finished.set(true);
            })
            .detach();
        }
    })
    .unwrap();
    assert_eq!(sim.live_tasks(), 1);
    assert!(!finished.get());
    sim.block_on(async { sleep(Duration::from_millis(20)).await })
        .unwrap();
    assert!(finished.get());
    assert_eq!(sim.live_tasks(), 0);
}

#[test]
fn is_finished_turns_true_when_the_task_returns_not_when_joined() {
    sim(SEED)
        .block_on(async {
            let task = spawn(async {
                yield_now().await;
                1
            });
            assert!(!task.is_finished(), "not yet polled");
            yield_now().await;
            assert!(!task.is_finished(), "suspended in its yield");
            yield_now().await;
            assert!(task.is_finished(), "returned, not joined yet");
            assert_eq!(task.await.unwrap(), 1);
        })
        .unwrap();
}

#[test]
fn a_panicking_task_gives_a_join_error_with_its_message() {
    let mut sim = sim(SEED);
    let error = sim
        .block_on(async {
            let task = spawn(async {
                yield_now().await;
                panic!("boom {}", 7);
            });
            task.await.unwrap_err()
        })
        .expect("a task panic must not unwind through block_on");
    assert!(error.is_panic());
    assert!(!error.is_cancelled());
    let message = error.panic_message().unwrap();
    assert!(message.starts_with("boom 7"), "{message}");
    assert!(message.contains("tests/executor.rs:"), "{message}");
    let text = sim.trace().to_string();
    assert!(text.contains("completed: panicked: boom 7"), "{text}");
}

#[test]
fn a_root_panic_is_reported_as_root_panicked() {
    let mut sim = sim(SEED);
    let result: Result<(), SimError> = sim.block_on(async {
        yield_now().await;
        panic!("root boom");
    });
    match result {
        Err(SimError::RootPanicked { message }) => {
            assert!(message.starts_with("root boom"), "{message}");
            assert!(message.contains("tests/executor.rs:"), "{message}");
        }
        other => panic!("expected RootPanicked, got {other:?}"),
    }
    let text = sim.trace().to_string();
    assert!(
        text.contains("main#0       completed: panicked: root boom"),
        "{text}"
    );
}

#[test]
fn a_deadlock_lists_every_blocked_task_and_what_it_waits_on() {
    let mut sim = sim(SEED);
    let spawn_line = line!() + 4;
    let result = sim.block_on(async {
        let (left_tx, left_rx) = oneshot::channel::<()>();
        let (right_tx, right_rx) = oneshot::channel::<()>();
        let left = spawn_named("left", async move {
            right_rx.await.unwrap();
            left_tx.send(()).unwrap();
        });
        let right = spawn_named("right", async move {
            left_rx.await.unwrap();
            right_tx.send(()).unwrap();
        });
        let ids = (left.id(), right.id());
        left.await.unwrap();
        right.await.unwrap();
        ids
    });
    let Err(error @ SimError::Deadlock { .. }) = result else {
        panic!("expected a deadlock, got {result:?}");
    };
    assert_eq!(error.code(), "deadlock");
    let SimError::Deadlock { time, blocked } = &error else {
        unreachable!()
    };
    assert_eq!(*time, Instant::ZERO);
    let names: Vec<_> = blocked.iter().map(|task| task.name.as_deref()).collect();
    assert_eq!(names, [Some("main"), Some("left"), Some("right")]);
    let left_id = blocked[1].id;
    assert_eq!(blocked[0].wait.kind, WaitKind::Join(left_id));
    assert_eq!(blocked[1].wait.kind, WaitKind::External);
    assert_eq!(blocked[2].wait.kind, WaitKind::External);
    assert!(blocked.iter().all(|task| task.await_point == 1));
    let text = error.to_string();
    assert!(text.starts_with("deadlock at 0.000s"), "{text}");
    assert!(
        text.contains(&format!(
            "main#0 at await point 1 waiting on join left{left_id}"
        )),
        "{text}"
    );
    // A wait on a future from outside cancelsim has no location of its
    // own: the task's spawn site says which task it is.
    assert!(
        text.contains(&format!(
            "left#1 at await point 1 waiting on a channel, lock, Notify or other future \
             (task started at tests/executor.rs:{spawn_line}:20)"
        )),
        "{text}"
    );
    let main_line = text
        .lines()
        .find(|line| line.contains("main#0 at await point 1 waiting on join"))
        .unwrap_or_else(|| panic!("no line of main in: {text}"));
    assert!(
        main_line.contains("(tests/executor.rs:") && !main_line.contains("task started"),
        "a wait with its own location says no more: {text}"
    );
    assert!(
        text.contains(
            "right#2 at await point 1 waiting on a channel, lock, Notify or other future"
        ),
        "{text}"
    );
    assert!(sim
        .trace()
        .to_string()
        .contains("deadlock: no task can run"));
}

#[test]
fn a_task_that_yields_forever_hits_the_step_limit() {
    let mut sim = Sim::new(Config::default().max_steps(1000));
    let result = sim.block_on(async {
        spawn(async {
            loop {
                yield_now().await;
            }
        })
        .await
    });
    match result {
        Err(error @ SimError::StepLimit { .. }) => {
            assert_eq!(error.code(), "step-limit");
            let SimError::StepLimit { steps, time } = error else {
                unreachable!()
            };
            assert_eq!(steps, 1000);
            assert_eq!(time, Instant::ZERO);
        }
        other => panic!("expected StepLimit, got {other:?}"),
    }
}

#[test]
fn a_timer_past_max_time_hits_the_time_limit() {
    let mut sim = Sim::new(Config::default().max_time(Duration::from_secs(1)));
    let result = sim.block_on(async {
        sleep(Duration::from_millis(400)).await;
        sleep(Duration::from_secs(2)).await;
    });
    match result {
        Err(error @ SimError::TimeLimit { .. }) => {
            assert_eq!(error.code(), "step-limit");
            let SimError::TimeLimit {
                time,
                next_deadline,
            } = error
            else {
                unreachable!()
            };
            assert_eq!(time.since_start(), Duration::from_millis(400));
            assert_eq!(next_deadline.since_start(), Duration::from_millis(2400));
        }
        other => panic!("expected TimeLimit, got {other:?}"),
    }
}

#[test]
fn a_timer_exactly_at_max_time_is_allowed() {
    let mut sim = Sim::new(Config::default().max_time(Duration::from_secs(1)));
    sim.block_on(async { sleep(Duration::from_secs(1)).await })
        .unwrap();
    assert_eq!(sim.now().since_start(), Duration::from_secs(1));
}

#[test]
fn a_sim_with_a_tight_step_budget_can_be_reused_for_two_block_ons() {
    // Each block_on takes 32 polls: the budget of 50 is per call.
    let mut sim = Sim::new(Config::default().max_steps(50));
    let run = || async {
        for _ in 0..30 {
            yield_now().await;
        }
        sleep(Duration::from_millis(5)).await;
        Instant::now()
    };
    let first = sim.block_on(run()).unwrap();
    let steps_after_first = sim.steps();
    let second = sim.block_on(run()).unwrap();
    assert_eq!(first.since_start(), Duration::from_millis(5));
    assert_eq!(
        second.since_start(),
        Duration::from_millis(10),
        "the clock carries over"
    );
    assert_eq!(steps_after_first, 32);
    assert_eq!(sim.steps(), 64);
    assert_eq!(sim.live_tasks(), 0);
    let text = sim.trace().to_string();
    assert!(text.contains("main#0       completed: returned"), "{text}");
    assert!(text.contains("main#1       completed: returned"), "{text}");
}

#[test]
fn a_wake_from_another_thread_reaches_its_task() {
    let mut sim = sim(7);
    let (value, polls_of_waiter) = sim
        .block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let polls = Rc::new(Cell::new(0));
            let counted = Rc::clone(&polls);
            let waiter = spawn(async move {
                let mut rx = rx;
                std::future::poll_fn(|cx| {
                    counted.set(counted.get() + 1);
                    std::future::Future::poll(std::pin::Pin::new(&mut rx), cx)
                })
                .await
                .expect("sent")
            });
            let sender = spawn(async move {
                yield_now().await;
                // The waiter's waker is woken on another thread: the wake
                // goes through the inbox and queues the waiter once.
                std::thread::spawn(move || tx.send(7).expect("receiver alive"))
                    .join()
                    .expect("sender thread");
            });
            sender.await.unwrap();
            (waiter.await.unwrap(), polls)
        })
        .unwrap();
    assert_eq!(value, 7);
    assert_eq!(polls_of_waiter.get(), 2, "one poll to wait, one to receive");
}
