//! The `demo` subcommand: a small built-in program with a cancellation in
//! it. README's "Reading a trace" quotes its trace, and a test keeps that
//! quote true.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled, OrCancel};
use cancelsim::{blocking, time, Sim};

use crate::DemoArgs;

/// Runs the demo program and prints its trace and a summary line.
pub(crate) fn demo(args: &DemoArgs) -> Result<(), cancelsim::SimError> {
    let mut sim = Sim::new(args.world.config());
    let saw = sim.block_on(caller())?;
    print!("{}", sim.trace());
    println!(
        "outcome: {saw}; virtual time {}, {} steps",
        sim.now(),
        sim.steps()
    );
    Ok(())
}

/// Starts a download, gives it one second, then asks it to cancel and waits
/// for it to clean up. Returns what it saw, in words.
async fn caller() -> String {
    let saved_pages = Rc::new(Cell::new(None));
    let fetch = cancelsim::spawn_named("fetch", fetch(10, Rc::clone(&saved_pages)));
    time::sleep(Duration::from_secs(1)).await;
    fetch.cancel();
    let outcome = match fetch.await {
        Ok(Ok(pages)) => format!("fetch returned {pages} pages"),
        Ok(Err(Cancelled { .. })) => "fetch ended with Err(Cancelled)".to_string(),
        Err(error) => format!("fetch failed: {error}"),
    };
    match saved_pages.get() {
        Some(pages) => format!("{outcome} after its cleanup saved {pages} pages"),
        None => format!("{outcome} without its cleanup (a bug)"),
    }
}

/// Downloads `pages` pages, 300 ms each, then parses each one (CPU work).
/// Whatever happens, its cleanup saves what it has on a worker thread before
/// it ends; a cancel request still reaches the caller as `Err(Cancelled)`.
async fn fetch(pages: u32, saved_pages: Rc<Cell<Option<u32>>>) -> Result<u32, Cancelled> {
    let done = Cell::new(0);
    let result = download(pages, &done).await;
    let done = done.get();
    blocking(Duration::from_millis(50), move || {
        saved_pages.set(Some(done))
    })
    .await;
    result.map(|()| done)
}

async fn download(pages: u32, done: &Cell<u32>) -> Result<(), Cancelled> {
    for _ in 0..pages {
        time::sleep(Duration::from_millis(300)).or_cancel().await?;
        cancelsim::work(Duration::from_millis(20));
        done.set(done.get() + 1);
        checkpoint().await?;
    }
    Ok(())
}
