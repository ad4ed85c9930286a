//! Expiries at the await points of explored schedules: a schedule's own
//! timing (a recorded choice, an I/O chunk delivered late) can reach a
//! wait inside a `timeout` that no seed's baseline reaches, and the sweep
//! expires the timeout there too — in at most two explored schedules,
//! first those with a sequence of waits of its own, then others (whose
//! order after the expiry differs), after every seed's runs.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::{sleep, timeout};
use cancelsim::{check::run_repro, choose, Check, Config, SchedulerKind, ViolationCode};

mod common;
use common::ms;

/// A transfer inside a deadline: the debit, then — only on the path a
/// recorded choice takes, as a slow backend would — a wait, then the
/// credit. The buggy transfer debits before the wait, so an expiry there
/// destroys money; the fixed one debits and credits together after it.
async fn transfer(fixed: bool) {
    let from = Rc::new(Cell::new(100i64));
    let to = Rc::new(Cell::new(0i64));
    let (f, t) = (Rc::clone(&from), Rc::clone(&to));
    cancelsim::invariant("money is neither made nor destroyed", move || {
        from.get() + to.get() == 100
    });
    let _ = timeout(Duration::from_secs(1), async move {
        if !fixed {
            f.set(f.get() - 10);
        }
        if choose(2) == 1 {
            sleep(ms(5)).await; // the slow path
        }
        if fixed {
            f.set(f.get() - 10);
        }
        t.set(t.get() + 10);
    })
    .await;
}

fn sweep(fixed: bool) -> cancelsim::Report {
    Check::new(move || transfer(fixed))
        .timeout_at_every_await(true)
        .explore_schedules(SchedulerKind::Random, 16)
        .run()
}

#[test]
fn an_expiry_at_a_wait_only_an_explored_schedule_reaches_is_found() {
    // The seed's baseline takes the fast path: no await point inside the
    // timeout, nothing to expire.
    let baseline_only = Check::new(|| transfer(false))
        .timeout_at_every_await(true)
        .run();
    baseline_only.assert_clean();

    let report = sweep(false);
    let text = report.to_string();
    assert!(!report.is_clean(), "{text}");
    // Two explored schedules swept: the first that takes the slow path
    // (new waits), then the next with waits seen before (the slow path
    // again, or the fast one).
    assert_eq!(report.counts().explored_expiry_schedules, 2, "{text}");
    assert!(text.contains("timeouts expired in 2 of them too"), "{text}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Invariant, "{text}");
    // Found by no seed (the header says `seeds 0`): the group says where.
    let group = &report.failure_groups()[0];
    assert_eq!(group.seeds, 0, "{text}");
    assert!(group.explored >= 1, "{text}");
    assert!(
        text.contains(&format!(
            "runs, seen in {} explored schedule{}):",
            group.explored,
            if group.explored == 1 { "" } else { "s" }
        )),
        "{text}"
    );
    assert!(
        text.contains("first found at main#0 await point 1 on sleep (tests/explored_expiries.rs:"),
        "{text}"
    );
    let repro = failure.repro().to_string();
    assert!(repro.contains("scheduler=random"), "{repro}");
    assert!(repro.contains("inject=timeout@0:1"), "{repro}");
    assert!(
        failure.trace().to_string().contains("choice 1 of 2 at"),
        "{}",
        failure.trace()
    );

    // The repro replays the explored schedule with its expiry, the same
    // trace each time.
    let body = || transfer(false);
    let first = run_repro(&body, &Config::default(), failure.repro());
    let again = run_repro(&body, &Config::default(), failure.repro());
    assert!(first.has(ViolationCode::Invariant), "{}", first.trace);
    assert_eq!(first.trace.to_string(), again.trace.to_string());
}

#[test]
fn the_fixed_transfer_is_clean_under_the_same_sweep() {
    let report = sweep(true);
    assert_eq!(report.counts().explored_expiry_schedules, 2, "{report}");
    report.assert_clean();
}

#[test]
fn explored_seeds_order_the_paths_differently() {
    // Two explored seeds take different paths: the one swept for
    // expiries is not the baseline's.
    let path = |seed: u64| {
        let mut sim = cancelsim::Sim::new(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        sim.block_on(transfer(true)).unwrap();
        sim.trace().to_string().contains("choice 1 of 2")
    };
    let paths: Vec<bool> = (1..=16).map(path).collect();
    assert!(paths.contains(&true) && paths.contains(&false), "{paths:?}");
}
