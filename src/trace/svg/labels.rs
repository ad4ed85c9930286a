//! The text of the timeline: XML escaping, shortened lane labels, and the
//! labels and step of the time axis.

pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(chars - 1).collect();
        short.push('…');
        short
    }
}

/// `1.5s`, `250ms`, `40µs`, `7ns`: `nanos` in the largest unit that
/// `scale` (the end of the axis) reaches.
pub(super) fn time_label(nanos: u64, scale: u64) -> String {
    if nanos == 0 {
        return "0".to_string();
    }
    let (unit, suffix) = if scale >= 1_000_000_000 {
        (1e9, "s")
    } else if scale >= 1_000_000 {
        (1e6, "ms")
    } else if scale >= 1_000 {
        (1e3, "µs")
    } else {
        (1.0, "ns")
    };
    let value = format!("{:.3}", nanos as f64 / unit);
    let value = value.trim_end_matches('0').trim_end_matches('.');
    format!("{value}{suffix}")
}

/// A 1-2-5 step giving about `target` ticks over `0..=end`.
pub(super) fn tick_step(end: u64, target: u64) -> u64 {
    let raw = (end / target.max(1)).max(1);
    let mut magnitude = 1u64;
    while magnitude.saturating_mul(10) <= raw {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| magnitude.saturating_mul(m))
        .find(|step| *step >= raw)
        .unwrap_or(raw)
}
