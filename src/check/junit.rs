//! The one JUnit XML writer, for a sweep's report and for the CLI's
//! scenario verdicts alike.

/// One `<testcase>`.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub name: String,
    pub classname: &'static str,
    /// Seconds, when known.
    pub time: Option<f64>,
    /// `(message, body)` of its `<failure>`, if it failed.
    pub failure: Option<(String, String)>,
}

/// A `<testsuite name=…>` of `cases`.
pub(crate) fn suite(name: &str, cases: &[Case]) -> String {
    let failed = cases.iter().filter(|case| case.failure.is_some()).count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">\n",
        escape(name),
        cases.len()
    ));
    for case in cases {
        xml.push_str(&format!(
            "  <testcase name=\"{}\" classname=\"{}\"",
            escape(&case.name),
            escape(case.classname)
        ));
        if let Some(time) = case.time {
            xml.push_str(&format!(" time=\"{time:.3}\""));
        }
        match &case.failure {
            None => xml.push_str("/>\n"),
            Some((message, body)) => xml.push_str(&format!(
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n",
                escape(message),
                escape(body)
            )),
        }
    }
    xml.push_str("</testsuite>\n");
    xml
}

/// Text for XML attributes and element content.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The testcases of a sweep, in plan order: runs with the same name (an
/// await point × injection kind, at suspension and on wake) are one case,
/// failed if any failed. Past [`MAX_CASES`] names, further runs are
/// counted into one last case, so memory stays bounded.
#[derive(Debug, Default)]
pub(crate) struct CaseList {
    cases: Vec<Case>,
    index: std::collections::BTreeMap<String, usize>,
    /// Runs past the cap: (runs, failed).
    more: (usize, usize),
}

/// Testcase names a report keeps.
pub(crate) const MAX_CASES: usize = 10_000;

impl CaseList {
    /// Adds a run named `name`; `failure` builds its `(message, body)`
    /// when it failed (called only when the case keeps it).
    pub fn add(&mut self, name: String, failed: bool, failure: impl FnOnce() -> (String, String)) {
        if let Some(&at) = self.index.get(&name) {
            let case = &mut self.cases[at];
            if failed && case.failure.is_none() {
                case.failure = Some(failure());
            }
            return;
        }
        if self.cases.len() >= MAX_CASES {
            self.more.0 += 1;
            self.more.1 += usize::from(failed);
            return;
        }
        self.index.insert(name.clone(), self.cases.len());
        self.cases.push(Case {
            name,
            classname: "cancelsim",
            time: None,
            failure: failed.then(failure),
        });
    }

    /// The cases, the runs past the cap as one more.
    pub fn finish(mut self) -> Vec<Case> {
        let (runs, failed) = self.more;
        if runs > 0 {
            self.cases.push(Case {
                name: format!("{runs} more runs (past {MAX_CASES} testcases)"),
                classname: "cancelsim",
                time: None,
                failure: (failed > 0).then(|| {
                    (
                        format!("{failed} failed"),
                        "see the report's failure groups".to_string(),
                    )
                }),
            });
        }
        self.cases
    }
}
