//! Node arguments and properties: counting them, reading strings, texts,
//! names, numbers, booleans and durations, with an error that says how to
//! write them.

use std::time::Duration;

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::{parse_duration, Parser};
use crate::scenario::error::ScenarioError;
use crate::scenario::model::Text;

impl Parser<'_> {
    pub(super) fn args<'n>(&self, node: &'n KdlNode) -> Vec<&'n KdlEntry> {
        node.entries()
            .iter()
            .filter(|e| e.name().is_none())
            .collect()
    }

    pub(super) fn prop<'n>(&self, node: &'n KdlNode, name: &str) -> Option<&'n KdlEntry> {
        node.entries()
            .iter()
            .find(|e| e.name().is_some_and(|n| n.value() == name))
    }

    pub(super) fn only(
        &self,
        node: &KdlNode,
        args: usize,
        props: &[&str],
        usage: &str,
    ) -> Result<(), ScenarioError> {
        let mut count = 0;
        for entry in node.entries() {
            match entry.name() {
                Some(name) if props.contains(&name.value()) => {}
                Some(name) => {
                    return Err(self.error(
                        entry.span(),
                        format!(
                            "`{}` has no property `{}`",
                            node.name().value(),
                            name.value()
                        ),
                        "unknown property",
                        format!("write it as `{usage}`"),
                    ))
                }
                None => {
                    count += 1;
                    if count > args {
                        return Err(self.error(
                            entry.span(),
                            format!("too many arguments to `{}`", node.name().value()),
                            "extra argument",
                            format!("write it as `{usage}`"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn no_children(&self, node: &KdlNode, usage: &str) -> Result<(), ScenarioError> {
        match node.children() {
            Some(children) => Err(self.error(
                children.span(),
                format!("`{}` takes no block", node.name().value()),
                "unexpected block",
                format!("write it as `{usage}`"),
            )),
            None => Ok(()),
        }
    }

    pub(super) fn value_text(&self, entry: &KdlEntry) -> Option<String> {
        match entry.value() {
            KdlValue::String(s) => Some(s.clone()),
            KdlValue::Integer(i) => Some(i.to_string()),
            KdlValue::Float(f) => Some(f.to_string()),
            KdlValue::Bool(b) => Some(b.to_string()),
            KdlValue::Null => None,
        }
    }

    pub(super) fn string_arg(
        &self,
        node: &KdlNode,
        index: usize,
        what: &str,
    ) -> Result<String, ScenarioError> {
        let args = self.args(node);
        let Some(entry) = args.get(index) else {
            return Err(self.error(
                node.span(),
                format!("`{}` needs {what}", node.name().value()),
                format!("{what} missing"),
                format!("add {what} after `{}`", node.name().value()),
            ));
        };
        self.string_entry(node, entry, what)
    }

    fn string_entry(
        &self,
        node: &KdlNode,
        entry: &KdlEntry,
        what: &str,
    ) -> Result<String, ScenarioError> {
        match entry.value() {
            KdlValue::String(s) => Ok(s.clone()),
            _ => Err(self.error(
                entry.span(),
                format!(
                    "`{}` needs {what}, not `{}`",
                    node.name().value(),
                    entry.value()
                ),
                "expected a string",
                "write it as a bare word or a quoted string",
            )),
        }
    }

    /// A text with `{variable}` references, from any value.
    pub(super) fn text_entry(&self, entry: &KdlEntry) -> Result<Text, ScenarioError> {
        let raw = self.value_text(entry).unwrap_or_else(|| "None".to_string());
        Text::parse(&raw).map_err(|problem| {
            self.error(
                entry.span(),
                format!("bad text: {problem}"),
                "here",
                "write `{name}` for a variable's value, `{{` and `}}` for braces",
            )
        })
    }

    pub(super) fn text_arg(
        &self,
        node: &KdlNode,
        index: usize,
        what: &str,
    ) -> Result<Text, ScenarioError> {
        match self.args(node).get(index) {
            Some(entry) => self.text_entry(entry),
            None => Err(self.error(
                node.span(),
                format!("`{}` needs {what}", node.name().value()),
                format!("{what} missing"),
                format!("add {what} after `{}`", node.name().value()),
            )),
        }
    }

    /// A property naming a variable (`into=result`).
    pub(super) fn name_prop(
        &self,
        node: &KdlNode,
        name: &str,
    ) -> Result<Option<String>, ScenarioError> {
        match self.prop(node, name) {
            None => Ok(None),
            Some(entry) => self.string_entry(node, entry, "a name").map(Some),
        }
    }

    /// A boolean property (`nowait=#true`), false when absent.
    pub(super) fn bool_prop(&self, node: &KdlNode, name: &str) -> Result<bool, ScenarioError> {
        match self.prop(node, name).map(|entry| (entry, entry.value())) {
            None => Ok(false),
            Some((_, KdlValue::Bool(value))) => Ok(*value),
            Some((entry, _)) => Err(self.error(
                entry.span(),
                format!("`{name}` is #true or #false"),
                "not a boolean",
                format!("write `{name}=#true`"),
            )),
        }
    }

    /// A whole number from `entry` in `range`.
    pub(super) fn count_entry(
        &self,
        entry: &KdlEntry,
        range: std::ops::RangeInclusive<i128>,
        usage: &str,
    ) -> Result<u32, ScenarioError> {
        match entry.value() {
            KdlValue::Integer(n) if range.contains(n) => Ok(*n as u32),
            _ => Err(self.error(
                entry.span(),
                format!(
                    "expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
                "not a count",
                format!("write e.g. `{usage}`"),
            )),
        }
    }

    pub(super) fn duration_arg(&self, node: &KdlNode) -> Result<Duration, ScenarioError> {
        self.duration_at(node, 0)
    }

    pub(super) fn duration_at(
        &self,
        node: &KdlNode,
        index: usize,
    ) -> Result<Duration, ScenarioError> {
        let keyword = node.name().value();
        let args = self.args(node);
        let Some(entry) = args.get(index) else {
            return Err(self.error(
                node.span(),
                format!("`{keyword}` needs a duration"),
                "duration missing",
                format!("write e.g. `{keyword} \"250ms\"` (units: ns, us, ms, s, m)"),
            ));
        };
        self.duration_entry(keyword, entry)
    }

    pub(super) fn duration_entry(
        &self,
        keyword: &str,
        entry: &KdlEntry,
    ) -> Result<Duration, ScenarioError> {
        let text = match entry.value() {
            KdlValue::String(s) => s.clone(),
            KdlValue::Integer(n) => {
                return Err(self.error(
                    entry.span(),
                    format!("duration `{n}` has no unit"),
                    "no unit",
                    format!("write it with a unit, as a string: `{keyword} \"{n}ms\"`"),
                ))
            }
            other => other.to_string(),
        };
        parse_duration(&text).ok_or_else(|| {
            self.error(
                entry.span(),
                format!("bad duration `{text}`"),
                "not a duration",
                "write a number and a unit (ns, us, ms, s, m), e.g. \"250ms\" or \"1.5s\"",
            )
        })
    }
}
