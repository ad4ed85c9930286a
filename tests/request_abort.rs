//! `JoinHandle::request_abort` (tokio's `abort`): the future is dropped when
//! the executor would next run the task, a recorded scheduling decision, not
//! inside the call.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::{Config, SchedulerKind, Sim};

struct Noted(Rc<RefCell<Vec<&'static str>>>);

impl Drop for Noted {
    fn drop(&mut self) {
        self.0.borrow_mut().push("dropped");
    }
}

async fn program() -> Vec<&'static str> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let guard = Noted(Rc::clone(&log));
    let task = cancelsim::spawn(async move {
        let _guard = guard;
        cancelsim::time::sleep(Duration::from_secs(3600)).await;
    });
    let other = {
        let log = Rc::clone(&log);
        cancelsim::spawn(async move { log.borrow_mut().push("other ran") })
    };
    cancelsim::yield_now().await;
    {
        // A borrow the task's destructor needs: held across the call.
        let mut held = log.borrow_mut();
        task.request_abort();
        held.push(if task.is_finished() {
            "finished at once"
        } else {
            "not yet finished"
        });
    }
    let error = task.await.unwrap_err();
    assert!(error.is_cancelled());
    other.await.unwrap();
    let out = log.borrow().clone();
    out
}

#[test]
fn the_future_is_dropped_when_the_task_next_runs_not_inside_the_call() {
    let log = Sim::new(Config::default()).block_on(program()).unwrap();
    assert_eq!(log, ["other ran", "not yet finished", "dropped"]);
}

#[test]
fn the_trace_shows_the_request_then_the_drop() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(program()).unwrap();
    let trace = sim.trace().to_string();
    let asked = trace
        .find("aborted by main#0")
        .expect("the request is recorded");
    let ended = trace
        .find("completed: aborted")
        .unwrap_or_else(|| panic!("{trace}"));
    assert!(asked < ended, "{trace}");
}

#[test]
fn same_seed_same_trace() {
    let run = |seed| {
        let mut sim = Sim::new(
            Config::default()
                .seed(seed)
                .scheduler(SchedulerKind::Random),
        );
        sim.block_on(program()).unwrap();
        sim.trace().to_string()
    };
    assert_eq!(run(9), run(9));
}

#[test]
fn aborting_twice_or_after_the_end_changes_nothing() {
    Sim::new(Config::default())
        .block_on(async {
            let task = cancelsim::spawn(async { 5 });
            cancelsim::yield_now().await;
            task.request_abort(); // finished already
            assert_eq!(task.await.unwrap(), 5);
            let task = cancelsim::spawn(cancelsim::time::sleep(Duration::from_secs(1)));
            let handle = task.abort_handle();
            handle.request_abort();
            task.request_abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(handle.is_finished());
        })
        .unwrap();
}
