//! The printed table: header and one row per workload (time per operation
//! or runs per second, ratio, target, verdict).

use std::time::Duration;

use crate::measure::{Measured, Target, Workload};

pub(crate) fn print_header() {
    println!(
        "{:<4} {:<26} {:>22} {:>22} {:>13} {:>8} {:>5}",
        "", "workload", "cancelsim", "tokio", "ratio", "target", "ok?"
    );
    println!("{}", "-".repeat(108));
}

pub(crate) fn per_op(time: Duration, ops: usize) -> f64 {
    time.as_nanos() as f64 / ops.max(1) as f64
}

pub(crate) fn print_row(workload: &Workload<'_>, measured: &Measured) {
    let cell = |time: Option<Duration>| match (time, workload.target) {
        (None, _) => "—".to_string(),
        (Some(time), Target::SpeedupAtLeast(_)) => {
            format!(
                "{:.0} {}s/s",
                workload.ops as f64 / time.as_secs_f64(),
                workload.unit
            )
        }
        (Some(time), _) => format!(
            "{:.0} ns/{} ({:.0} ms)",
            per_op(time, workload.ops),
            workload.unit,
            time.as_secs_f64() * 1e3
        ),
    };
    let ratio = match (measured.cancelsim, measured.tokio) {
        (Some(sim), Some(tokio)) => Some(sim.as_secs_f64() / tokio.as_secs_f64()),
        _ => None,
    };
    let (ratio_text, target_text, verdict) = match (workload.target, ratio) {
        (_, None) => ("—".to_string(), "—".to_string(), ""),
        (Target::None, Some(ratio)) => (format!("{ratio:.2}"), "—".to_string(), ""),
        (Target::RatioAtMost(max), Some(ratio)) => (
            format!("{ratio:.2}"),
            format!("≤ {max:.1}"),
            if ratio <= max { "ok" } else { "MISS" },
        ),
        (Target::SpeedupAtLeast(min), Some(ratio)) => {
            let speedup = 1.0 / ratio;
            (
                format!("{speedup:.2}× faster"),
                format!("≥ {min:.0}×"),
                if speedup >= min { "ok" } else { "MISS" },
            )
        }
    };
    println!(
        "{:<4} {:<26} {:>22} {:>22} {:>13} {:>8} {:>5}",
        workload.name,
        workload.what,
        cell(measured.cancelsim),
        cell(measured.tokio),
        ratio_text,
        target_text,
        verdict
    );
}
