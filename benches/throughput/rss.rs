//! Peak memory, measured in child processes (the bench re-executed with
//! `--rss W3` or `--rss empty`), each printing its `VmHWM`.

use std::hint::black_box;
use std::process::Command;

use cancelsim::{Config, Sim, TraceMode};

use crate::executor::w3_cancelsim;
use crate::sizes::Sizes;

/// `VmHWM` of this process in KiB (peak resident set size).
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Child mode: do one thing, print `VmHWM <KiB>`.
pub(crate) fn rss_child(mode: &str) {
    match mode.to_ascii_uppercase().as_str() {
        "W3" => {
            let joined = w3_cancelsim(Sizes::FULL, TraceMode::Off);
            assert_eq!(joined, Sizes::FULL.spawns);
        }
        "EMPTY" => {
            let sim = Sim::new(Config::default().trace(TraceMode::Off));
            black_box(&sim);
            drop(sim);
        }
        other => panic!("--rss takes W3 or empty, not {other:?}"),
    }
    match peak_rss_kib() {
        Some(kib) => println!("VmHWM {kib}"),
        None => println!("VmHWM unavailable"),
    }
}

/// Runs this binary again in `--rss mode` and reads the child's `VmHWM`.
pub(crate) fn rss_of_child(mode: &str) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let output = Command::new(exe)
        .args(["--rss", mode])
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "child `--rss {mode}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM "))
        .and_then(|kib| kib.trim().parse().ok())
        .ok_or_else(|| format!("child `--rss {mode}` printed no VmHWM: {stdout}"))
}

pub(crate) fn print_rss() {
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "\npeak RSS (VmHWM, child processes, cancelsim with TraceMode::Off; target: W3 within a few MiB of empty)"
    );
    match (rss_of_child("empty"), rss_of_child("W3")) {
        (Ok(empty), Ok(w3)) => {
            let diff = w3 as i64 - empty as i64;
            println!(
                "  empty Sim:                {:>8.1} MiB ({empty} KiB)",
                mib(empty)
            );
            println!(
                "  W3 ({} spawn+join): {:>8.1} MiB ({w3} KiB)",
                Sizes::FULL.spawns,
                mib(w3)
            );
            println!(
                "  difference:               {:>8.1} MiB ({diff} KiB)  {}",
                diff as f64 / 1024.0,
                if diff <= 4 * 1024 { "ok" } else { "MISS" }
            );
        }
        (empty, w3) => {
            for error in [empty.err(), w3.err()].into_iter().flatten() {
                println!("  {error}");
            }
        }
    }
}
