//! A race with a timer branch (`select::Race`) is a timeout scope for its
//! other branches, written against cancelsim directly: a sweep expires it
//! at every await point they reach, the timer then wins at its deadline,
//! and the losing branch is dropped where it waited — the cancel-unsafe
//! code is found, its cancel-safe twin passes, and a race without a timer
//! gets no timeout injection.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use cancelsim::time::{sleep, sleep_until, Instant};
use cancelsim::{select, Check, Config, InjectionKind, Report, SchedulerKind, Sim, ViolationCode};

/// Which branch of [`race`] won.
enum Either<A, B> {
    Left(A),
    Right(B),
}

/// A fair two-branch `select!` on [`select::Race`].
async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut race = select::Race::new();
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        let start = select::start(2);
        race.begin_poll(0);
        for offset in 0..2 {
            let branch = (start + offset) % 2;
            let polled = if branch == 0 {
                race.poll_branch(0, || a.as_mut().poll(cx))
                    .map(Either::Left)
            } else {
                race.poll_branch(1, || b.as_mut().poll(cx))
                    .map(Either::Right)
            };
            if let Poll::Ready(out) = polled {
                race.won(branch, 0b11 & !(1 << branch), polls);
                race.end_poll();
                return Poll::Ready(out);
            }
        }
        race.end_poll();
        Poll::Pending
    })
    .await
}

/// A channel's state: the items, closed, the receiver's waker.
type ChannelState = (VecDeque<u32>, bool, Option<Waker>);

/// A channel from outside cancelsim: it notes no wait.
#[derive(Clone, Default)]
struct Channel(Rc<RefCell<ChannelState>>);

impl Channel {
    fn send(&self, item: u32) {
        let mut inner = self.0.borrow_mut();
        inner.0.push_back(item);
        if let Some(waker) = inner.2.take() {
            waker.wake();
        }
    }

    fn close(&self) {
        let mut inner = self.0.borrow_mut();
        inner.1 = true;
        if let Some(waker) = inner.2.take() {
            waker.wake();
        }
    }

    async fn recv(&self) -> Option<u32> {
        poll_fn(|cx| {
            let mut inner = self.0.borrow_mut();
            match inner.0.pop_front() {
                Some(item) => Poll::Ready(Some(item)),
                None if inner.1 => Poll::Ready(None),
                None => {
                    inner.2 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

fn timeouts_only<F, Fut>(body: F) -> Report
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()>,
{
    Check::new(body)
        .without_cancellation()
        .timeout_at_every_await(true)
        .run()
}

fn timeout_runs(report: &Report) -> usize {
    report
        .counts()
        .runs_by_kind()
        .into_iter()
        .filter(|(kind, _)| *kind == "timeout")
        .map(|(_, n)| n)
        .sum()
}

// ----- the counter -------------------------------------------------------------

async fn counter(guarded: bool) {
    struct Uncount(Rc<Cell<u32>>);
    impl Drop for Uncount {
        fn drop(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }
    let busy = Rc::new(Cell::new(0));
    let channel = Channel::default();
    cancelsim::spawn({
        let channel = channel.clone();
        async move {
            sleep(Duration::from_millis(10)).await;
            channel.send(1);
        }
    });
    let work = async {
        busy.set(busy.get() + 1);
        let guard = guarded.then(|| Uncount(Rc::clone(&busy)));
        let job = channel.recv().await;
        if guard.is_none() {
            busy.set(busy.get() - 1);
        }
        job
    };
    let _ = race(work, sleep(Duration::from_secs(1))).await;
    assert_eq!(busy.get(), 0, "a job is still counted");
}

#[test]
fn a_counter_left_by_a_race_against_a_sleep_is_found_with_its_await_point() {
    let report = timeouts_only(|| counter(false));
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    let violation = &failure.violations()[0];
    assert_eq!(violation.kind(), ViolationCode::Panic);
    assert_eq!(violation.task_id().map(|t| t.as_u32()), Some(0));
    let injection = failure.repro().injections[0];
    assert_eq!(injection.kind, InjectionKind::Timeout);
    assert_eq!(injection.to_string(), "timeout@0:1");
    let trace = failure.trace().to_string();
    assert!(
        trace.contains("select! #0's timer branch won (tests/select_timeout.rs:"),
        "{trace}"
    );
    assert!(
        trace.contains("branch 1 won; dropped pending branch 0 (waiting at await point 1)"),
        "{trace}"
    );
    // Never before the deadline.
    let fired = trace
        .lines()
        .find(|l| l.contains("timer branch won"))
        .unwrap();
    assert!(fired.contains(" 1.000s "), "{fired}");
}

#[test]
fn the_guarded_counter_passes() {
    let report = timeouts_only(|| counter(true));
    report.assert_clean();
    assert!(timeout_runs(&report) > 0, "{report}");
}

/// The race's own timer is its deadline, not a sleep of the work: with
/// `timeouts_only_where_late`, the work waiting on a channel is still
/// expired there.
#[test]
fn the_race_timer_is_a_deadline_where_only_late_waits_are_expired() {
    let report = Check::new(|| counter(false))
        .without_cancellation()
        .timeout_at_every_await(true)
        .timeouts_only_where_late(true)
        .run();
    assert!(!report.is_clean(), "{report}");
    let text = report.to_string();
    assert!(
        text.contains("on select! (tests/select_timeout.rs:"),
        "{text}"
    );
}

// ----- the collector ---------------------------------------------------------------

/// Reads pairs beside a periodic flush; the buggy reader takes a pair in
/// two steps and loses the first half when the tick wins between them.
async fn collector(buggy: bool) {
    let channel = Channel::default();
    cancelsim::spawn({
        let channel = channel.clone();
        async move {
            for i in 0..6 {
                channel.send(i);
                sleep(Duration::from_millis(3)).await;
            }
            channel.close();
        }
    });
    let period = Duration::from_millis(50);
    let mut next_tick = Instant::now() + period;
    let mut buffer = Vec::new();
    let mut flushed = Vec::new();
    let half: RefCell<Option<u32>> = RefCell::new(None);
    loop {
        let pair = async {
            if buggy {
                let first = channel.recv().await?;
                let second = channel.recv().await?;
                Some((first, second))
            } else {
                loop {
                    let item = channel.recv().await?;
                    let first = half.borrow_mut().take();
                    match first {
                        None => *half.borrow_mut() = Some(item),
                        Some(first) => return Some((first, item)),
                    }
                }
            }
        };
        match race(sleep_until(next_tick), pair).await {
            Either::Left(()) => {
                next_tick += period;
                flushed.append(&mut buffer);
            }
            Either::Right(Some((first, second))) => buffer.extend([first, second]),
            Either::Right(None) => break,
        }
    }
    flushed.append(&mut buffer);
    assert_eq!(flushed, [0, 1, 2, 3, 4, 5], "items lost");
}

#[test]
fn a_half_read_pair_lost_to_a_tick_is_found() {
    let report = timeouts_only(|| collector(true));
    assert!(!report.is_clean(), "{report}");
    let failure = &report.failures()[0];
    assert!(failure.has(ViolationCode::Panic), "{report}");
    assert_eq!(failure.repro().injections[0].kind, InjectionKind::Timeout);
    let text = report.to_string();
    assert!(text.contains("items lost"), "{text}");
    assert!(
        text.contains("branch 0 won; dropped pending branch 1"),
        "{text}"
    );
}

#[test]
fn the_cancel_safe_collector_passes() {
    let report = timeouts_only(|| collector(false));
    report.assert_clean();
    assert!(timeout_runs(&report) > 0, "{report}");
}

// ----- what is not a timer ------------------------------------------------------------

#[test]
fn a_race_without_a_timer_gets_no_timeout_injection() {
    let report = timeouts_only(|| async {
        let a = Channel::default();
        let b = Channel::default();
        cancelsim::spawn({
            let (a, b) = (a.clone(), b.clone());
            async move {
                sleep(Duration::from_millis(10)).await;
                a.send(1);
                b.send(2);
            }
        });
        let _ = race(a.recv(), b.recv()).await;
    });
    report.assert_clean();
    assert_eq!(timeout_runs(&report), 0, "{report}");
}

/// A branch that sleeps and then waits on a channel is no timer: it is
/// the one expired.
#[test]
fn a_branch_that_sleeps_first_and_then_waits_is_not_a_timer() {
    let report = timeouts_only(|| async {
        let busy = Rc::new(Cell::new(0));
        let channel = Channel::default();
        cancelsim::spawn({
            let channel = channel.clone();
            async move {
                sleep(Duration::from_millis(20)).await;
                channel.send(1);
            }
        });
        let work = async {
            sleep(Duration::from_millis(5)).await;
            busy.set(busy.get() + 1);
            let _ = channel.recv().await;
            busy.set(busy.get() - 1);
        };
        let _ = race(work, sleep(Duration::from_secs(1))).await;
        assert_eq!(busy.get(), 0, "a job is still counted");
    });
    assert!(!report.is_clean(), "{report}");
}

/// A library's own delay (a stream's chunk on its way), polled with
/// `Sleep::poll_delay`, is no timer: a race of it and a channel gets no
/// timeout injection, where the same race on the sleep's `poll` does.
#[test]
fn a_librarys_delay_polled_with_poll_delay_is_not_a_timer() {
    let body = |as_delay: bool| {
        move || async move {
            let channel = Channel::default();
            cancelsim::spawn({
                let channel = channel.clone();
                async move {
                    sleep(Duration::from_millis(5)).await;
                    channel.send(1);
                }
            });
            let mut delay = pin!(sleep(Duration::from_millis(20)));
            let delivery = poll_fn(move |cx| {
                if as_delay {
                    delay.as_mut().poll_delay(cx)
                } else {
                    delay.as_mut().poll(cx)
                }
            });
            let _ = race(delivery, channel.recv()).await;
        }
    };
    let as_delay = timeouts_only(body(true));
    as_delay.assert_clean();
    assert_eq!(timeout_runs(&as_delay), 0, "{as_delay}");
    let as_timer = timeouts_only(body(false));
    assert!(timeout_runs(&as_timer) > 0, "{as_timer}");
}

// ----- determinism -------------------------------------------------------------------

fn traced(seed: u64) -> String {
    let config = Config::default()
        .seed(seed)
        .scheduler(SchedulerKind::Random);
    let mut sim = Sim::new(config);
    sim.block_on(collector(false)).unwrap();
    sim.trace().to_string()
}

#[test]
fn the_same_seed_gives_the_same_trace_and_seeds_differ() {
    assert_eq!(traced(5), traced(5));
    let traces: std::collections::BTreeSet<String> = (0..8).map(traced).collect();
    assert!(traces.len() > 1, "eight seeds, one trace");
}

#[test]
fn an_expired_race_replays_the_same_way() {
    let report = timeouts_only(|| counter(false));
    let repro = report.failures()[0].repro().clone();
    let body = || counter(false);
    let first = cancelsim::check::run_repro(&body, &Config::default(), &repro);
    let again = cancelsim::check::run_repro(&body, &Config::default(), &repro);
    assert!(!first.is_clean());
    assert_eq!(first.trace.to_string(), again.trace.to_string());
}

/// A lookup that races its backend against a 50 ms deadline and falls
/// back to 0, and a test asserting the backend's answer: when the sweep
/// expires the race, the test fails the same way with the backend never
/// started, so it checks the race's result — excused and counted, as for
/// a `timeout` (the counterfactual names the race by its number, since
/// its scope number comes only after its first poll).
async fn lookup_then_assert() {
    let backend = async {
        cancelsim::yield_now().await;
        sleep(Duration::from_millis(5)).await;
        7
    };
    let value = match race(backend, sleep(Duration::from_millis(50))).await {
        Either::Left(value) => value,
        Either::Right(()) => 0,
    };
    assert_eq!(value, 7);
}

#[test]
fn a_race_whose_result_the_test_asserts_is_excused_and_counted() {
    let report = timeouts_only(lookup_then_assert);
    assert!(report.is_clean(), "{report}");
    assert!(timeout_runs(&report) > 0, "{report}");
    assert!(report.counts().timeout_results_excused > 0, "{report}");
    assert!(report.to_string().contains("timeout expir"), "{report}");
}

#[test]
fn a_counter_left_by_a_race_is_not_excused_and_says_half_done() {
    let report = timeouts_only(|| counter(false));
    assert!(!report.is_clean(), "{report}");
    let hint = report.failures()[0].violations()[0].hint();
    assert!(hint.contains("before its operation started"), "{hint}");
}

/// The await point of an expired race is named by what the dropped
/// branch waited on (here a join), not by the race's timer, whichever
/// branch the seed polls first: that wait is what the expiry cut short.
#[test]
fn an_expired_race_names_the_dropped_branchs_wait() {
    let report = Check::new(|| async {
        let busy = Rc::new(Cell::new(0));
        let job = cancelsim::spawn(async {
            sleep(Duration::from_millis(10)).await;
            7
        });
        let work = async {
            busy.set(busy.get() + 1);
            let value = job.await;
            busy.set(busy.get() - 1);
            value
        };
        let _ = race(work, sleep(Duration::from_secs(1))).await;
        assert_eq!(busy.get(), 0, "a job is still counted");
    })
    .without_cancellation()
    .timeout_at_every_await(true)
    .scheduler(SchedulerKind::Random)
    .seeds(0..8)
    .run();
    assert!(!report.is_clean(), "{report}");
    assert!(
        report
            .to_string()
            .contains("first found at main#0 await point 1 on join #1"),
        "{report}"
    );
    for failure in report.failures() {
        let trace = failure.trace().to_string();
        let suspend = trace
            .lines()
            .find(|line| line.contains("main#0       suspend at await point 1"))
            .unwrap_or_else(|| panic!("the root suspends: {trace}"));
        assert!(suspend.contains("on join #1"), "{suspend}");
    }
}

// ----- the report speaks of a `select!`, not of a timeout ----------------------

/// A race's loss gets the advice for a `select!` (cancel-safe branches, the
/// operation polled by `&mut`, the rest in the branch body), not the
/// generic "make the change atomic"; the report names the race as a
/// `select!` wherever a `timeout` would be named.
#[test]
fn a_race_loss_gets_select_advice_and_is_called_a_select() {
    let report = timeouts_only(|| counter(false));
    assert!(!report.is_clean(), "{report}");
    let violation = &report.failures()[0].violations()[0];
    let hint = violation.hint();
    assert!(
        hint.contains("the timer branch winning this select! earlier"),
        "{hint}"
    );
    assert!(
        hint.contains("Keep only cancel-safe futures in the select!"),
        "{hint}"
    );
    assert!(hint.contains("poll it by `&mut`"), "{hint}");
    assert!(hint.contains("do the rest in the branch body"), "{hint}");
    assert!(!hint.contains("expiring this timeout"), "{hint}");
    let text = report.to_string();
    assert!(!text.contains("timeout #0 fired"), "{text}");
    assert!(!text.contains(" on timeout ("), "{text}");
    // The JSON trace keeps its event name and says which race it was.
    let json = report.failures()[0].trace().to_json_lines();
    let fired = json
        .lines()
        .find(|line| line.contains("timeout_fired"))
        .unwrap_or_else(|| panic!("{json}"));
    assert!(fired.contains("\"select\":0"), "{fired}");
}

/// The same counter under a `timeout` keeps the timeout's words.
#[test]
fn the_same_counter_under_a_timeout_keeps_the_timeout_words() {
    let report = timeouts_only(|| async {
        let busy = Rc::new(Cell::new(0));
        let work = async {
            busy.set(busy.get() + 1);
            sleep(Duration::from_millis(10)).await;
            busy.set(busy.get() - 1);
        };
        let _ = cancelsim::time::timeout(Duration::from_secs(1), work).await;
        assert_eq!(busy.get(), 0, "a job is still counted");
    });
    assert!(!report.is_clean(), "{report}");
    let hint = report.failures()[0].violations()[0].hint();
    assert!(hint.contains("expiring this timeout"), "{hint}");
    assert!(!hint.contains("select!"), "{hint}");
    let trace = report.failures()[0].trace().to_string();
    assert!(trace.contains("timeout #0 fired ("), "{trace}");
}

/// An excused race names itself as a `select!` in the report's example.
#[test]
fn an_excused_race_is_named_a_select() {
    let report = timeouts_only(lookup_then_assert);
    assert!(report.is_clean(), "{report}");
    let example = report.counts().timeout_result_example.clone();
    let example = example.unwrap_or_default();
    assert!(
        example.contains("under select! at tests/select_timeout.rs:"),
        "{example}"
    );
}

/// Not excused (the check says so): a race whose result the test asserts
/// is told that it assumes the timer never wins, in `select!` words.
#[test]
fn a_race_whose_result_is_checked_is_told_so_in_select_words() {
    let report = Check::new(lookup_then_assert)
        .without_cancellation()
        .timeout_at_every_await(true)
        .excuse_timeout_results(false)
        .run();
    assert!(!report.is_clean(), "{report}");
    let hint = report.failures()[0].violations()[0].hint();
    assert!(
        hint.contains("this select!'s timer branch wins before its operation starts"),
        "{hint}"
    );
    assert!(hint.contains("assumes the timer never wins"), "{hint}");
}
