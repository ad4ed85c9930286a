//! The text of a report: a bounded trace however long the failing run, the
//! hints it gives, and a header whose counts add up.

use std::cell::Cell;
use std::rc::Rc;

use cancelsim::time::sleep;
use cancelsim::{spawn_named, CancelMode, Check, Config, Report, ViolationCode};

mod common;
use common::ms;

/// Bug: polls a flag the worker sets, until it is set. When the worker is
/// aborted before it sets the flag, the loop never ends.
async fn polls_a_flag_the_worker_sets() {
    let done = Rc::new(Cell::new(false));
    let worker = spawn_named("worker", {
        let done = Rc::clone(&done);
        async move {
            sleep(ms(1)).await;
            done.set(true);
        }
    })
    .abort_on_drop();
    while !done.get() {
        sleep(ms(1)).await;
    }
    let _ = worker.await;
}

/// Fixed: stops waiting when the worker ended, whether or not it set it.
async fn polls_the_flag_until_the_worker_ended() {
    let done = Rc::new(Cell::new(false));
    let worker = spawn_named("worker", {
        let done = Rc::clone(&done);
        async move {
            sleep(ms(1)).await;
            done.set(true);
        }
    })
    .abort_on_drop();
    while !done.get() && !worker.is_finished() {
        sleep(ms(1)).await;
    }
    let _ = worker.await;
}

fn drop_sweep<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future,
{
    Check::new(body)
        .cancel_at_every_await(CancelMode::Drop)
        .config(Config::default().max_steps(5_000))
        .run()
}

#[test]
fn a_step_limit_report_prints_the_ends_of_its_trace_and_names_the_cancelled_task() {
    let report = drop_sweep(polls_a_flag_the_worker_sets);
    let failure = report
        .failures()
        .iter()
        .find(|failure| failure.has(ViolationCode::StepLimit))
        .expect("a step-limit failure");
    let violation = &failure.violations()[0];
    let injected = violation.injection().expect("an injected run");
    assert_eq!(injected.to_string(), "cancel-drop@1:1", "{violation}");
    assert!(
        violation
            .hint()
            .contains("waiting on the task the injection cancelled"),
        "{violation}"
    );

    let text = report.to_string();
    let (_, trace) = text
        .split_once("\ntrace of the first failing run")
        .expect("a trace");
    let first = &report.failures()[report.failure_groups()[0].first];
    assert_eq!(first.repro(), failure.repro(), "{text}");
    let events = first.trace().len();
    assert!(events > 5_000, "{events}");
    // Its first line, the trace's header (3 lines), 200 events, the line
    // that counts the rest, 200 events.
    assert_eq!(trace.lines().count(), 1 + 3 + 200 + 1 + 200, "{trace}");
    let omitted = format!(
        "… {} events omitted (the full trace: CANCELSIM_ARTIFACTS=<dir> writes it to a file, \
         or replay the run with CANCELSIM_REPLAY='{}')",
        events - 400,
        first.repro()
    );
    assert!(trace.contains(&omitted), "{trace}");
    let last = first.trace().events().last().expect("events");
    assert!(
        trace.trim_end().ends_with(&first.trace().line(&last)),
        "{trace}"
    );
    // Nor do the JSON and JUnit forms carry the trace.
    assert!(report.to_json().len() < 20_000, "{}", report.to_json());
    assert!(report.to_junit().len() < 20_000, "{}", report.to_junit());
    // Same seed, same report.
    assert_eq!(drop_sweep(polls_a_flag_the_worker_sets).to_string(), text);
}

#[test]
fn a_loop_that_stops_when_the_worker_ended_is_clean() {
    drop_sweep(polls_the_flag_until_the_worker_ended).assert_clean();
}

/// A program with a timeout, a child, and a signal it listens to.
async fn small_service() {
    let stop = Rc::new(Cell::new(false));
    cancelsim::cancel::register_signal({
        let stop = Rc::clone(&stop);
        move || stop.set(true)
    });
    let child = spawn_named("child", async {
        sleep(ms(5)).await;
        cancelsim::yield_now().await;
    })
    .abort_on_drop();
    let _ = cancelsim::time::timeout(ms(50), sleep(ms(2))).await;
    let _ = stop.get();
    let _ = child.await;
}

/// The header's line of runs: `runs: …, (N in all)`.
fn runs_line(report: &Report) -> String {
    let text = report.to_string();
    text.lines()
        .find(|line| line.contains("; runs: "))
        .unwrap_or_else(|| panic!("no runs line: {text}"))
        .to_string()
}

#[test]
fn the_headers_runs_add_up_to_the_total_and_name_every_kind() {
    let sweeps = [
        common::sweep(small_service).run(),
        common::sweep(small_service)
            .explore_schedules(cancelsim::SchedulerKind::Random, 16)
            .run(),
        common::sweep(small_service)
            .seeds(0..3)
            .random_plans(5)
            .signal_at_every_await(true)
            .run(),
        Check::new(small_service).tokio_preset().run(),
        common::sweep(polls_a_flag_the_worker_sets)
            .config(Config::default().max_steps(5_000))
            .explore_schedules(cancelsim::SchedulerKind::Random, 4)
            .run(),
    ];
    for report in &sweeps {
        let counts = report.counts();
        let line = runs_line(report);
        let sum: usize = counts.runs_by_kind().iter().map(|(_, n)| n).sum();
        assert_eq!(sum, counts.runs, "{line}");
        assert!(
            line.ends_with(&format!("({} in all)", counts.runs)),
            "{line}"
        );
        assert_eq!(counts.determinism_reruns, counts.baselines, "{line}");
        // Every number the line names, the total's parts: they add up too.
        let (_, parts) = line.split_once("; runs: ").expect("runs");
        // `; timeouts expired in 2 of them too` qualifies the explored
        // schedules: no runs of its own.
        let parts = match parts.split_once("); timeouts expired in ") {
            Some((head, tail)) => format!(
                "{head}), {}",
                tail.split_once(" of them too, ")
                    .map_or("", |(_, rest)| rest)
            ),
            None => parts.to_string(),
        };
        let parts = parts.split(" (").next().unwrap_or_default().to_string()
            + &parts
                .split_once("), ")
                .map_or(String::new(), |(_, rest)| format!(", {rest}"));
        let named: usize = parts
            .split(", ")
            .filter_map(|part| part.split(' ').find_map(|word| word.parse::<usize>().ok()))
            .sum();
        assert_eq!(named, counts.runs, "{line}");
    }
    let explored = &sweeps[1];
    assert_eq!(explored.counts().explored, 16);
    assert!(
        runs_line(explored).contains(
            "17 baseline (1 for the seeds, 16 explored schedules); timeouts expired in 2 of \
             them too, 17 determinism re-runs, "
        ),
        "{}",
        runs_line(explored)
    );
    assert!(sweeps[2].counts().random_plans > 0);
    assert!(sweeps[2].counts().per_kind["signal"] > 0);
}

/// Three steps under a timeout; the test asserts all three were done,
/// and its message names the ones that were — other words for each await
/// point the sweep expires the timeout at (not only other numbers, which
/// a group's key masks anyway).
async fn counts_steps(guarded: bool) {
    let done = Rc::new(std::cell::RefCell::new(Vec::new()));
    let job = async {
        for step in ["one", "two", "three"] {
            sleep(ms(1)).await;
            done.borrow_mut().push(step);
        }
    };
    let _ = cancelsim::time::timeout(ms(100), job).await;
    if !guarded {
        let done = done.borrow();
        assert_eq!(done.len(), 3, "only {done:?}");
    }
}

/// One assertion is one bug, whatever value its message shows: the runs
/// that expired the timeout after one or two steps are one group (it was
/// one per message), titled by the first run's message.
#[test]
fn one_assertion_with_messages_that_differ_is_one_group() {
    let report = Check::new(|| counts_steps(false)).tokio_preset().run();
    let panics: Vec<_> = report
        .failure_groups()
        .iter()
        .filter(|group| group.code == "panic")
        .collect();
    assert_eq!(panics.len(), 1, "{report}");
    let messages: std::collections::BTreeSet<String> = report
        .failures()
        .iter()
        .flat_map(|f| f.violations())
        .filter(|v| v.kind() == ViolationCode::Panic)
        .map(|v| v.message().lines().next().unwrap_or("").to_string())
        .collect();
    assert!(
        messages.len() >= 2,
        "the messages differ: {messages:?}\n{report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("panic in main: the root panicked: assertion `left == right` failed: only "),
        "{text}"
    );
    Check::new(|| counts_steps(true))
        .tokio_preset()
        .run()
        .assert_clean();
}
