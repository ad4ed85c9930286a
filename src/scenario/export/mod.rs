//! `cancelsim export --python`: the asyncio program a scenario models.
//!
//! The program runs on CPython's own asyncio event loop with a virtual
//! clock (see `prelude.py`): one unit of loop time is the largest of 1 s,
//! 1 ms, 1 µs and 1 ns that divides every duration of the scenario, so
//! that every time is a whole number. It prints every `log` line with its
//! loop time, then each task's outcome and end time and when `main` ended,
//! as JSON lines; [`PythonRun`] reads them back, so that a test can run
//! each scenario both ways and compare.
//!
//! Each task becomes an `async def`, each step the statement asyncio code
//! would use: `asyncio.sleep`, `asyncio.timeout`, `asyncio.shield`, a
//! `TaskGroup`, `try`/`except`/`finally`, `asyncio.wait`; the few steps
//! asyncio has no word for (`work`: CPU time without an await; `blocking`:
//! `to_thread` on the virtual clock; tracked resources) are helpers of the
//! prelude.

mod program;
mod run;
mod statements;

pub use program::{export_python, time_unit};
pub use run::{PythonRun, PythonTaskOutcome};
