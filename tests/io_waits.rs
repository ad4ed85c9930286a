//! A wait a simulated library names as a stream read or write
//! (`WaitKind::Io`, noted with `cancelsim::note_wait`): shown by its name
//! and location in the text trace, the JSON lines and a deadlock report,
//! and kept by a capped trace.

use std::cell::Cell;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use cancelsim::trace::{IoWait, Wait, WaitKind};
use cancelsim::{Config, Sim, SimError, TraceMode};

/// A read that waits until `ready` is set, noting what it waits on at the
/// place it was made, as the tokio facade's streams do.
struct Read {
    ready: Rc<Cell<bool>>,
    waker: Rc<Cell<Option<Waker>>>,
    op: IoWait,
    at: &'static Location<'static>,
}

#[track_caller]
fn read(ready: &Rc<Cell<bool>>, waker: &Rc<Cell<Option<Waker>>>, op: IoWait) -> Read {
    Read {
        ready: ready.clone(),
        waker: waker.clone(),
        op,
        at: Location::caller(),
    }
}

impl Future for Read {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.ready.get() {
            return Poll::Ready(());
        }
        self.waker.set(Some(cx.waker().clone()));
        cancelsim::note_wait(Wait {
            kind: WaitKind::Io(self.op),
            at: Some(self.at),
        });
        Poll::Pending
    }
}

fn line_of(marker: &str) -> usize {
    include_str!("io_waits.rs")
        .lines()
        .position(|line| line.ends_with(&format!("// marker: {marker}")))
        .expect("marked line")
        + 1
}

async fn program() {
    let (ready, waker) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(None::<Waker>)));
    let writer = {
        let (ready, waker) = (ready.clone(), waker.clone());
        cancelsim::spawn_named("writer", async move {
            cancelsim::yield_now().await;
            ready.set(true);
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        })
    };
    read(&ready, &waker, IoWait::DuplexRead).await; // marker: read
    writer.await.unwrap();
}

#[test]
fn an_io_wait_is_shown_by_its_name_at_its_location() {
    let mut sim = Sim::new(Config::default());
    sim.block_on(program()).unwrap();
    let text = sim.trace().to_string();
    let expected = format!(
        "suspend at await point 1 on duplex read (tests/io_waits.rs:{}:",
        line_of("read")
    );
    assert!(text.contains(&expected), "{text}");
    let json = sim.trace().to_json_lines();
    assert!(json.contains(r#""wait":"duplex-read""#), "{json}");
}

#[test]
fn every_io_wait_has_its_name() {
    let names = [
        (IoWait::DuplexRead, "duplex read"),
        (IoWait::DuplexWrite, "duplex write"),
        (IoWait::SimplexRead, "simplex read"),
        (IoWait::SimplexWrite, "simplex write"),
    ];
    for (op, name) in names {
        assert_eq!(op.name(), name);
        let mut sim = Sim::new(Config::default().trace(TraceMode::Last(8)));
        let error = sim
            .block_on(async move {
                let (ready, waker) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(None)));
                read(&ready, &waker, op).await; // marker: deadlock
            })
            .unwrap_err();
        assert!(matches!(error, SimError::Deadlock { .. }), "{error}");
        let expected = format!("{name} (tests/io_waits.rs:{}:", line_of("deadlock"));
        assert!(error.to_string().contains(&expected), "{error}");
        // A capped trace stores the wait in its compact form: it reads back.
        let text = sim.trace().to_string();
        assert!(text.contains(&format!("on {expected}")), "{text}");
    }
}

#[test]
fn same_seed_same_trace() {
    let trace = |seed| {
        let mut sim = Sim::new(Config::default().seed(seed));
        sim.block_on(program()).unwrap();
        sim.trace().to_string()
    };
    assert_eq!(trace(5), trace(5));
}
