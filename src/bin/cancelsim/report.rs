//! How `cancelsim run` reports its verdicts on the terminal: one line per
//! scenario (JSON and JUnit come from the library's writers,
//! `cancelsim::scenario::verdicts_json` / `verdicts_junit`).

use cancelsim::scenario::Verdict;

fn found_text(verdict: &Verdict) -> String {
    if verdict.found.is_empty() {
        "clean".to_string()
    } else {
        verdict.found.join(", ")
    }
}

pub(crate) fn verdict_line(verdict: &Verdict) -> String {
    let counts = verdict.report.counts();
    let mut line = format!(
        "{} {:<44} {:>3} await points {:>5} runs  found: {:<32} {:.2}s",
        if verdict.matches() { "ok  " } else { "FAIL" },
        verdict.scenario,
        counts.await_points,
        counts.runs,
        found_text(verdict),
        verdict.elapsed.as_secs_f64()
    );
    for problem in &verdict.problems {
        line.push_str(&format!("\n       {problem}"));
    }
    for cleanup in &verdict.interrupted_cleanups {
        line.push_str(&format!(
            "\n       note: in the baseline run a cancellation arrived at an await inside the {cleanup}"
        ));
    }
    if !verdict.left_to_shutdown.is_empty() {
        let (them, their) = match verdict.left_to_shutdown.len() {
            1 => ("it", "its"),
            _ => ("them", "their"),
        };
        line.push_str(&format!(
            "\n       note: cancelling main before it awaits {} leaves {them} to asyncio.run's \
             shutdown, which cancels and awaits {them} ({their} cleanup is checked; not a leak)",
            verdict.left_to_shutdown.join(", "),
        ));
    }
    if !verdict.matches() {
        if let Some(failure) = verdict.report.failures().first() {
            line.push_str(&format!(
                "\n       first failing run: cancelsim replay '{}' --scenario {}",
                failure.repro(),
                verdict.path
            ));
        }
    }
    line
}
