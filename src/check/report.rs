//! The result of a sweep: counts, coverage, failures with repros and traces.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::json;

use super::Repro;
use crate::inject::InjectionKind;
use crate::oracle::{Violation, ViolationCode};
use crate::trace::Trace;

/// One failing run: how to re-run it, what was wrong, what happened.
#[derive(Clone, Debug)]
pub struct Failure {
    pub(crate) repro: Repro,
    pub(crate) violations: Vec<Violation>,
    pub(crate) trace: Trace,
    pub(crate) point_label: Option<String>,
}

impl Failure {
    /// The one-line repro (`CANCELSIM_REPLAY=<repro>` re-runs it).
    pub fn repro(&self) -> &Repro {
        &self.repro
    }

    /// What the oracles found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The trace of the run.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Does any violation have this code?
    pub fn has(&self, code: &str) -> bool {
        self.violations.iter().any(|v| v.code() == code)
    }
}

/// Counts of a sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Baseline runs (one per seed, plus explored schedules).
    pub baselines: usize,
    /// Await points found over all baselines.
    pub await_points: usize,
    /// Injectable await points (in the code under test, not in harness work).
    pub injectable_points: usize,
    /// Runs made in all (baselines included).
    pub runs: usize,
    /// Runs per injection kind (single-injection runs).
    pub per_kind: BTreeMap<&'static str, usize>,
    /// Runs with a random multi-injection plan.
    pub random_plans: usize,
    /// Planned runs left out by `max_runs`.
    pub sampled_out: usize,
    /// (task, await point, injection kind) tuples planned / exercised.
    pub tuples_planned: usize,
    /// Of those, how many fired in some run.
    pub tuples_covered: usize,
    /// Injected runs in which a task panicked only because it awaited a
    /// task the harness had aborted (`handle.await.unwrap()` on the
    /// `JoinError`): what an injected abort does, not a bug of the code, so
    /// not a failure.
    pub abort_consequences: usize,
    /// Injected runs in which the harness expired a `timeout` the test
    /// itself wrote around its own awaits ([`Config::test_file`](crate::Config::test_file))
    /// and the test unwrapped that `Err(Elapsed)` in the same poll
    /// (`.expect("finishes in time")`): the test's own assertion, not a
    /// bug of the code, so not a failure.
    pub assertion_timeouts: usize,
    /// Injection kinds the check asked for by name (its cancel modes).
    pub requested: Vec<&'static str>,
    /// Runs in which an injection of each kind fired.
    pub fired_per_kind: BTreeMap<&'static str, usize>,
    /// Seeds of the check's range left out: past the budget
    /// ([`Check::max_runs`](super::Check::max_runs)), a sweep takes the
    /// first seeds only.
    pub seeds_left_out: u64,
    /// Signal injections were asked for, but no baseline registered a
    /// signal (`cancel::register_signal`): cooperative shutdown was not swept.
    pub signal_unregistered: bool,
}

/// The result of [`Check::run`](super::Check::run).
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) counts: Counts,
    pub(crate) failures: Vec<Failure>,
    pub(crate) scheduler: String,
    pub(crate) seeds: super::seeds::Seeds,
    pub(crate) pct_bound: Option<f64>,
    pub(crate) shard: Option<(usize, usize)>,
    /// For JUnit: (testcase name, failure index if it failed).
    pub(crate) cases: Vec<(String, Option<usize>)>,
    /// Set when the report is of one `CANCELSIM_REPLAY` run.
    pub(crate) replay: Option<Repro>,
    /// What was checked (`Check::name`).
    pub(crate) name: Option<String>,
}

impl Report {
    /// No run found anything wrong.
    pub fn is_clean(&self) -> bool {
        self.failures.is_empty()
    }

    /// Every failing run, in plan order.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The counts.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// For PCT: the probability bound `1/(n·k^(d-1))` per run of finding a
    /// bug of the chosen depth (n tasks, k steps of the largest baseline).
    pub fn pct_bound(&self) -> Option<f64> {
        self.pct_bound
    }

    /// Failures grouped by (violation code, where the violation is): the
    /// same bug found by several runs — other injection points, other
    /// seeds, other schedules — shows once, with its count. Where: the task
    /// and the await point's source location, or for a panic, a deadlock or
    /// an invariant the task and the message's first line.
    pub fn groups(&self) -> Vec<(String, String, Vec<usize>)> {
        let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (index, failure) in self.failures.iter().enumerate() {
            let mut seen = BTreeSet::new();
            for violation in &failure.violations {
                let key = (violation.code().to_string(), violation_site(violation));
                if seen.insert(key.clone()) {
                    groups.entry(key).or_default().push(index);
                }
            }
        }
        groups
            .into_iter()
            .map(|((code, point), runs)| (code, point, runs))
            .collect()
    }

    /// Panics with the report's text unless it is clean — and also when a
    /// cancellation mode the check asked for
    /// ([`Check::cancel_at_every_await`](super::Check::cancel_at_every_await))
    /// fired in no run: a sweep that injected nothing proves nothing.
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!("{self}");
        }
        let silent: Vec<&str> = self
            .counts
            .requested
            .iter()
            .copied()
            .filter(|kind| self.counts.fired_per_kind.get(kind).copied().unwrap_or(0) == 0)
            .collect();
        if self.replay.is_none() && !silent.is_empty() {
            panic!(
                "{self}\ncancelsim: the sweep injected no {} although asked to: {} \
                 (a body that never suspends, or await points the harness cannot reach, \
                 proves nothing about cancellation)",
                silent.join(" and no "),
                if self.counts.injectable_points == 0 {
                    "the body has no await point to inject at"
                } else {
                    "no planned injection of that kind fired"
                }
            );
        }
    }

    /// The report as JSON (for tools and CI).
    pub fn to_json(&self) -> String {
        let failures: Vec<_> = self
            .failures
            .iter()
            .map(|failure| {
                json!({
                    "repro": failure.repro.to_string(),
                    "await_point": failure.point_label,
                    "violations": failure.violations.iter().map(|v| json!({
                        "code": v.code(),
                        "task": v.task_label(),
                        "await_point": v.await_point(),
                        "location": v.location(),
                        "injection": v.injection().map(|i| i.to_string()),
                        "message": v.message(),
                        "hint": v.hint(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let value = json!({
            "clean": self.is_clean(),
            "scheduler": self.scheduler,
            "seeds": self.seeds.to_json(),
            "shard": self.shard.map(|(k, n)| json!({"index": k, "count": n})),
            "counts": {
                "baselines": self.counts.baselines,
                "await_points": self.counts.await_points,
                "injectable_points": self.counts.injectable_points,
                "runs": self.counts.runs,
                "per_kind": self.counts.per_kind,
                "random_plans": self.counts.random_plans,
                "sampled_out": self.counts.sampled_out,
                "tuples_planned": self.counts.tuples_planned,
                "tuples_covered": self.counts.tuples_covered,
            },
            "pct_bound": self.pct_bound,
            "failures": failures,
        });
        serde_json::to_string_pretty(&value).expect("JSON of plain values")
    }

    /// The report as JUnit XML: one testcase per await point × injection
    /// kind (plus one per baseline and random plan).
    pub fn to_junit(&self) -> String {
        let failed = self.cases.iter().filter(|(_, f)| f.is_some()).count();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml.push_str(&format!(
            "<testsuite name=\"cancelsim\" tests=\"{}\" failures=\"{failed}\">\n",
            self.cases.len()
        ));
        for (name, failure) in &self.cases {
            xml.push_str(&format!(
                "  <testcase name=\"{}\" classname=\"cancelsim\"",
                escape(name)
            ));
            match failure {
                None => xml.push_str("/>\n"),
                Some(index) => {
                    let failure = &self.failures[*index];
                    let codes: Vec<&str> = failure.violations.iter().map(Violation::code).collect();
                    let body: Vec<String> =
                        failure.violations.iter().map(|v| v.to_string()).collect();
                    xml.push_str(&format!(
                        ">\n    <failure message=\"{}\">{}\nrepro: {}</failure>\n  </testcase>\n",
                        escape(&codes.join(", ")),
                        escape(&body.join("\n")),
                        escape(&failure.repro.to_string())
                    ));
                }
            }
        }
        xml.push_str("</testsuite>\n");
        xml
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        if let Some(repro) = &self.replay {
            writeln!(
                f,
                "cancelsim replay of {repro}: {}",
                if self.is_clean() { "clean" } else { "FAILED" }
            )?;
            for failure in &self.failures {
                for violation in &failure.violations {
                    for line in violation.to_string().lines() {
                        writeln!(f, "  {line}")?;
                    }
                }
            }
            return Ok(());
        }
        let name = match &self.name {
            Some(name) => format!(" {name}"),
            None => String::new(),
        };
        if self.is_clean() {
            writeln!(f, "cancelsim check{name}: clean ({} runs)", c.runs)?;
        } else {
            writeln!(
                f,
                "cancelsim check{name}: FAILED ({} of {} runs failed)",
                self.failures.len(),
                c.runs
            )?;
        }
        let kinds: Vec<String> = [
            InjectionKind::CancelDrop,
            InjectionKind::CancelCooperative,
            InjectionKind::Timeout,
            InjectionKind::Signal,
        ]
        .iter()
        .filter_map(|kind| {
            c.per_kind
                .get(kind.name())
                .map(|n| format!("{} {n}", kind.name()))
        })
        .collect();
        writeln!(
            f,
            "  {} await points ({} injectable) in {} baseline runs; runs: {} baseline, {}, {} random plans{}",
            c.await_points,
            c.injectable_points,
            c.baselines,
            c.baselines,
            if kinds.is_empty() { "no injections".to_string() } else { kinds.join(", ") },
            c.random_plans,
            if c.sampled_out > 0 { format!(" ({} more left out by max_runs)", c.sampled_out) } else { String::new() },
        )?;
        writeln!(
            f,
            "  coverage: {}/{} (task, await point, injection) tuples; scheduler {}, seeds {}{}",
            c.tuples_covered,
            c.tuples_planned,
            self.scheduler,
            self.seeds.describe(),
            match self.shard {
                Some((k, n)) => format!(", shard {k} of {n}"),
                None => String::new(),
            }
        )?;
        if c.seeds_left_out > 0 {
            writeln!(
                f,
                "  seeds: the budget ran the first {} ({} more of the range left out; raise max_runs to run them)",
                self.seeds.len(),
                c.seeds_left_out
            )?;
        }
        if c.abort_consequences > 0 {
            writeln!(
                f,
                "  {} injected run(s) ended in a panic on the JoinError of a task the harness aborted \
                 (`handle.await.unwrap()`): what an abort does, not a bug, so not a failure",
                c.abort_consequences
            )?;
        }
        if c.assertion_timeouts > 0 {
            writeln!(
                f,
                "  {} injected run(s) expired a timeout the test itself asserts on (`timeout(..).await.expect(..)` \
                 in the test): its assertion, not a bug, so not a failure",
                c.assertion_timeouts
            )?;
        }
        if c.signal_unregistered {
            writeln!(
                f,
                "  no cancellation signal swept: the body registered none \
                 (call cancel::register_signal(|| token.cancel()) in the test)"
            )?;
        }
        if let Some(bound) = self.pct_bound {
            writeln!(
                f,
                "  PCT: each run finds a bug of the chosen depth with probability >= {bound:.2e}"
            )?;
        }
        if self.is_clean() {
            return Ok(());
        }
        for (code, site, runs) in self.groups() {
            let first = &self.failures[runs[0]];
            let seeds: BTreeSet<(u64, String)> = runs
                .iter()
                .map(|&run| {
                    let repro = &self.failures[run].repro;
                    (repro.seed, repro.scheduler.to_string())
                })
                .collect();
            writeln!(
                f,
                "\n{code} in {site} ({} run{}{}):",
                runs.len(),
                if runs.len() == 1 { "" } else { "s" },
                if seeds.len() > 1 {
                    format!(", seen with {} seeds", seeds.len())
                } else {
                    String::new()
                }
            )?;
            if let Some(point) = &first.point_label {
                writeln!(f, "  first found at {point}")?;
            }
            for violation in first
                .violations
                .iter()
                .filter(|v| v.code() == code && violation_site(v) == site)
            {
                for line in violation.to_string().lines() {
                    writeln!(f, "  {line}")?;
                }
            }
            writeln!(f, "  replay: CANCELSIM_REPLAY='{}'", first.repro)?;
        }
        let first = self
            .groups()
            .first()
            .map_or(&self.failures[0], |(_, _, runs)| &self.failures[runs[0]]);
        writeln!(f, "\ntrace of the first failing run ({}):", first.repro)?;
        write!(f, "{}", first.trace)
    }
}

/// Where a violation is, the same in every run that shows it (no task ids
/// of unnamed tasks past the first, no await point ordinals, no times).
fn violation_site(violation: &Violation) -> String {
    let task = match (&violation.task_name, violation.task) {
        (Some(name), _) => name.clone(),
        (None, Some(task)) => task.to_string(),
        (None, None) => "the run".to_string(),
    };
    match violation.code {
        ViolationCode::Panic
        | ViolationCode::UnobservedPanic
        | ViolationCode::Invariant
        | ViolationCode::Deadlock
        | ViolationCode::StepLimit
        | ViolationCode::Nondeterminism => {
            let first = violation.message.lines().next().unwrap_or("");
            // Times and counts in a message differ from run to run; source
            // locations do not.
            let first: Vec<String> = first
                .split(' ')
                .map(|word| {
                    if word.contains(".rs:") {
                        word.to_string()
                    } else {
                        word.chars()
                            .map(|c| if c.is_ascii_digit() { '#' } else { c })
                            .collect()
                    }
                })
                .collect();
            let first = first.join(" ");
            format!("{task}: {first}")
        }
        _ => {
            let at = violation
                .wait
                .and_then(|wait| wait.at)
                .or(violation.location)
                .map_or_else(|| "?".to_string(), crate::trace::display_location);
            format!("{task} at {at}")
        }
    }
}

/// A format [`Report::write_artifacts`] can write a failing run's trace in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArtifactFormat {
    /// The text form (`.trace.txt`), with the repro line on top.
    Text,
    /// JSON lines (`.jsonl`), see [`Trace::to_json_lines`].
    JsonLines,
    /// Chrome trace-event JSON (`.chrome.json`), for Perfetto.
    Chrome,
    /// The SVG timeline (`.svg`).
    Svg,
}

impl ArtifactFormat {
    /// Every format.
    pub const ALL: &'static [ArtifactFormat] = &[
        ArtifactFormat::Text,
        ArtifactFormat::JsonLines,
        ArtifactFormat::Chrome,
        ArtifactFormat::Svg,
    ];

    /// The file name ending: `trace.txt`, `jsonl`, `chrome.json`, `svg`.
    pub fn extension(self) -> &'static str {
        match self {
            ArtifactFormat::Text => "trace.txt",
            ArtifactFormat::JsonLines => "jsonl",
            ArtifactFormat::Chrome => "chrome.json",
            ArtifactFormat::Svg => "svg",
        }
    }

    fn render(self, failure: &Failure) -> String {
        match self {
            ArtifactFormat::Text => format!("# {}\n{}", failure.repro, failure.trace),
            ArtifactFormat::JsonLines => failure.trace.to_json_lines(),
            ArtifactFormat::Chrome => failure.trace.to_chrome_json(),
            ArtifactFormat::Svg => failure.trace.to_svg(),
        }
    }
}

impl Report {
    /// Writes each failing run's trace to `dir` (created if missing), once
    /// per format: `failure-000-leaked-resource.trace.txt`,
    /// `failure-000-leaked-resource.svg`, ... (failure index, then the code
    /// of its first violation). Returns the files written, in order. The
    /// contents hold no absolute path, so they can be kept as CI artifacts
    /// and compared across machines. `Check::run` calls this with every
    /// format when `CANCELSIM_ARTIFACTS` is set.
    ///
    /// # Errors
    ///
    /// The first I/O error, naming the file.
    pub fn write_artifacts(
        &self,
        dir: &std::path::Path,
        formats: &[ArtifactFormat],
    ) -> std::io::Result<Vec<std::path::PathBuf>> {
        let mut written = Vec::new();
        if self.failures.is_empty() || formats.is_empty() {
            return Ok(written);
        }
        let context = |path: &std::path::Path, error: std::io::Error| {
            std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
        };
        std::fs::create_dir_all(dir).map_err(|error| context(dir, error))?;
        for (index, failure) in self.failures.iter().enumerate() {
            let code = failure
                .violations
                .first()
                .map_or("failure", Violation::code);
            for format in formats {
                let path = dir.join(format!("failure-{index:03}-{code}.{}", format.extension()));
                std::fs::write(&path, format.render(failure))
                    .map_err(|error| context(&path, error))?;
                written.push(path);
            }
        }
        Ok(written)
    }
}
