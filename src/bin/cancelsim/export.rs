//! The `export` subcommand: the program a scenario models, in another
//! language (today: Python asyncio).

use std::path::PathBuf;

use clap::Args;

use crate::{load_one, write_out, Failed};

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The scenario file.
    file: PathBuf,

    /// Write the asyncio program the scenario models (run it with `python3`,
    /// 3.11 or later: it prints its log lines with their loop time, then each
    /// task's outcome and end time).
    #[arg(long, required = true)]
    python: bool,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

pub(crate) fn export(args: &ExportArgs) -> Result<(), Failed> {
    let scenario = load_one(&args.file)?;
    debug_assert!(args.python);
    write_out(
        args.output.as_deref(),
        &cancelsim::scenario::export_python(&scenario),
    )
}
