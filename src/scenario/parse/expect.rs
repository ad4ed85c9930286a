//! The `expect` block: outcomes, violation codes and the end time.

use kdl::KdlNode;

use super::Parser;
use crate::scenario::error::ScenarioError;
use crate::scenario::model::{Expect, ExpectedOutcome};

impl Parser<'_> {
    pub(super) fn expect(&self, node: &KdlNode) -> Result<Expect, ScenarioError> {
        let mut expect = Expect::default();
        let Some(children) = node.children() else {
            return Ok(expect);
        };
        for item in children.nodes() {
            match item.name().value() {
                "outcome" => {
                    let usage = "outcome TASK value|cancelled|timeout|error|running [DETAIL]";
                    self.only(item, 3, &[], usage)?;
                    let task = self.string_arg(item, 0, "a task name")?;
                    let kind = self.string_arg(item, 1, "an outcome")?;
                    if !["value", "cancelled", "timeout", "error", "running"].contains(&kind.as_str()) {
                        return Err(self.error(
                            self.args(item)[1].span(),
                            format!("unknown outcome `{kind}`"),
                            "not an outcome",
                            "expect one of value, cancelled, timeout, error, running",
                        ));
                    }
                    let detail = self.args(item).get(2).and_then(|entry| self.value_text(entry));
                    expect.outcomes.push(ExpectedOutcome {
                        task,
                        kind,
                        detail,
                        span: item.span(),
                    });
                }
                "violations" => {
                    self.only(item, usize::MAX, &[], "violations CODE…")?;
                    for entry in self.args(item) {
                        let code = self.value_text(entry).unwrap_or_default();
                        if crate::ViolationCode::from_name(&code).is_none() {
                            let codes: Vec<&str> =
                                crate::ViolationCode::ALL.iter().map(|c| c.as_str()).collect();
                            return Err(self.error(
                                entry.span(),
                                format!("unknown violation code `{code}`"),
                                "not a violation code",
                                format!("codes are: {}", codes.join(", ")),
                            ));
                        }
                        if !expect.violations.contains(&code) {
                            expect.violations.push(code);
                        }
                    }
                    expect.violations.sort();
                }
                "time" => {
                    self.only(item, 1, &[], "time \"1s\"")?;
                    expect.time = Some(self.duration_arg(item)?);
                }
                other => {
                    return Err(self.error(
                        item.name().span(),
                        format!("unknown expectation `{other}`"),
                        "not outcome, violations or time",
                        "an `expect` block holds `outcome TASK KIND`, `violations CODE…` and `time \"1s\"`",
                    ))
                }
            }
        }
        Ok(expect)
    }
}
