//! The legend row under the title: one swatch and label per kind of mark.

use std::fmt::Write;

use super::labels::escape;
use super::{CANCEL, INJECT, LIFE, POLL, TICK, TIMEOUT, VIOLATION};
use crate::trace::Trace;

impl Trace {
    pub(super) fn legend(&self, svg: &mut String, dense: bool) {
        let y = 62.0;
        let mut lx = 10.0;
        let mut item = |svg: &mut String, swatch: String, label: &str| {
            svg.push_str(&swatch.replace("{X}", &format!("{lx:.1}")));
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                lx + 16.0,
                y + 4.0,
                escape(label)
            );
            lx += 24.0 + 6.8 * label.chars().count() as f64;
        };
        let poll_label = if dense {
            "polls (bar height: count per column)"
        } else {
            "poll"
        };
        item(
            svg,
            format!(
                "<rect x=\"{{X}}\" y=\"{:.1}\" width=\"12\" height=\"8\" fill=\"{POLL}\"/>\n",
                y - 4.0
            ),
            poll_label,
        );
        if !dense {
            item(
                svg,
                format!(
                    "<line x1=\"{{X}}\" y1=\"{:.1}\" x2=\"{{X}}\" y2=\"{:.1}\" stroke=\"{TICK}\" transform=\"translate(6 0)\"/>\n",
                    y - 6.0,
                    y + 6.0
                ),
                "await point",
            );
        }
        item(
            svg,
            format!(
                "<line x1=\"0\" y1=\"{y:.1}\" x2=\"12\" y2=\"{y:.1}\" stroke=\"{LIFE}\" transform=\"translate({{X}} 0)\"/>\n"
            ),
            "alive",
        );
        item(
            svg,
            format!("<circle cx=\"6\" cy=\"{y:.1}\" r=\"2.5\" fill=\"#222222\" transform=\"translate({{X}} 0)\"/>\n"),
            "completed",
        );
        item(
            svg,
            format!(
                "<line x1=\"6\" y1=\"{:.1}\" x2=\"6\" y2=\"{:.1}\" stroke=\"{CANCEL}\" stroke-width=\"2\" transform=\"translate({{X}} 0)\"/>\n",
                y - 7.0,
                y + 7.0
            ),
            "cancel / abort",
        );
        item(
            svg,
            format!(
                "<line x1=\"6\" y1=\"{:.1}\" x2=\"6\" y2=\"{:.1}\" stroke=\"{TIMEOUT}\" stroke-width=\"2\" transform=\"translate({{X}} 0)\"/>\n",
                y - 7.0,
                y + 7.0
            ),
            "timeout fired",
        );
        item(
            svg,
            format!(
                "<path d=\"M2 {:.1}h8l-4 7z\" fill=\"{INJECT}\" stroke=\"#7a3d00\" stroke-width=\"0.5\" transform=\"translate({{X}} 0)\"/>\n",
                y - 4.0
            ),
            "injection",
        );
        item(
            svg,
            format!(
                "<path d=\"M6 {:.1}l6 6l-6 6l-6 -6z\" fill=\"{VIOLATION}\" transform=\"translate({{X}} 0)\"/>\n",
                y - 6.0
            ),
            "violation",
        );
    }
}
