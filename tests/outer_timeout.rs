//! `timeout-outer`: at an await point inside two timeouts, the outer one's
//! expiry, which drops the inner operation half-done (the inner one's
//! expiry lets the code around it go on).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::time::{sleep, timeout};
use cancelsim::{check::run_repro, Check, Config, InjectionKind, Repro, ViolationCode};

mod common;
use common::ms;

/// A transfer under a deadline whose middle step waits under its own:
/// the buggy one debits before that step and credits after it.
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
        // The confirmation: waited for under its own deadline; the
        // transfer goes on either way.
        let _ = timeout(ms(500), sleep(ms(100))).await;
        if fixed {
            f.set(f.get() - 10);
        }
        t.set(t.get() + 10);
    })
    .await;
}

#[test]
fn the_outer_expiry_is_planned_where_two_timeouts_nest_and_finds_the_bug() {
    let report = Check::new(|| transfer(false))
        .timeout_at_every_await(true)
        .run();
    assert!(!report.is_clean(), "{report}");
    // At suspension and on wake.
    assert_eq!(
        report.counts().per_kind.get("timeout-outer"),
        Some(&2),
        "{report}"
    );
    let failure = &report.failures()[0];
    assert_eq!(failure.violations()[0].kind(), ViolationCode::Invariant);
    assert_eq!(
        failure.repro().to_string(),
        "cancelsim:v1 seed=0 scheduler=fifo inject=timeout-outer@0:1"
    );
    // Every failing run is the outer expiry's: the inner one's lets the
    // transfer finish.
    assert!(report
        .failures()
        .iter()
        .all(|f| f.repro().injections[0].kind == InjectionKind::TimeoutOuter));
    let trace = failure.trace().to_string();
    assert!(
        trace.contains("injected timeout-outer at await point 1"),
        "{trace}"
    );
    assert!(trace.contains("timeout #0 fired"), "the outer one: {trace}");
}

#[test]
fn the_fixed_transfer_passes_the_outer_expiry() {
    Check::new(|| transfer(true))
        .timeout_at_every_await(true)
        .run()
        .assert_clean();
}

#[test]
fn an_outer_expiry_replays_the_same_trace() {
    let repro: Repro = "cancelsim:v1 seed=3 scheduler=random inject=timeout-outer@0:1"
        .parse()
        .expect("the kind parses");
    assert_eq!(
        repro.to_string(),
        "cancelsim:v1 seed=3 scheduler=random inject=timeout-outer@0:1"
    );
    let body = || transfer(false);
    let first = run_repro(&body, &Config::default(), &repro);
    let again = run_repro(&body, &Config::default(), &repro);
    assert!(first.has(ViolationCode::Invariant), "{}", first.trace);
    assert_eq!(first.trace.to_string(), again.trace.to_string());
    assert_eq!(first.trace.to_json_lines(), again.trace.to_json_lines());
}

#[test]
fn a_point_inside_one_timeout_has_no_outer_expiry() {
    let single = || async {
        let _ = timeout(ms(500), sleep(ms(100))).await;
    };
    let report = Check::new(single).timeout_at_every_await(true).run();
    assert_eq!(
        report.counts().per_kind.get("timeout-outer"),
        None,
        "{report}"
    );
    report.assert_clean();
}
