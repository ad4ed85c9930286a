//! How `cancelsim run` reports its verdicts: one line per scenario, JSON,
//! JUnit XML.

use cancelsim::scenario::Verdict;
use serde_json::json;

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

pub(crate) fn verdicts_json(verdicts: &[Verdict]) -> String {
    let items: Vec<_> = verdicts
        .iter()
        .map(|verdict| {
            let counts = verdict.report.counts();
            json!({
                "scenario": verdict.scenario,
                "matches": verdict.matches(),
                "await_points": counts.await_points,
                "runs": counts.runs,
                "found": verdict.found,
                "left_to_shutdown": verdict.left_to_shutdown,
                "interrupted_cleanups": verdict.interrupted_cleanups,
                "problems": verdict.problems,
                "seconds": verdict.elapsed.as_secs_f64(),
                "failures": verdict.report.failures().iter().take(5).map(|f| json!({
                    "repro": f.repro().to_string(),
                    "codes": f.violations().iter().map(|v| v.code()).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "matches": verdicts.iter().all(Verdict::matches),
        "scenarios": items,
    }))
    .expect("JSON of plain values")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn verdicts_junit(verdicts: &[Verdict]) -> String {
    let failed = verdicts.iter().filter(|v| !v.matches()).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuite name=\"cancelsim scenarios\" tests=\"{}\" failures=\"{failed}\">\n",
        verdicts.len()
    ));
    for verdict in verdicts {
        xml.push_str(&format!(
            "  <testcase name=\"{}\" classname=\"cancelsim.scenarios\" time=\"{:.3}\"",
            escape(&verdict.scenario),
            verdict.elapsed.as_secs_f64()
        ));
        if verdict.matches() {
            xml.push_str("/>\n");
        } else {
            xml.push_str(&format!(
                ">\n    <failure message=\"differs from its expectation\">{}</failure>\n  </testcase>\n",
                escape(&verdict.problems.join("\n"))
            ));
        }
    }
    xml.push_str("</testsuite>\n");
    xml
}
