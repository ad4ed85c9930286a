//! The trace as a self-contained SVG timeline, for people.
//!
//! One horizontal lane per task (labelled `name#id`, in id order) over
//! virtual time (or over executor steps when virtual time never moved), with
//! a time axis, a legend and, below, the list of violations. Polls are bars,
//! await points are ticks; cancellations, timeouts, injections and
//! violations are marked in red and orange; a thin line shows each task's
//! life from spawn to completion.
//!
//! Invariants: no scripts, no external resources, only the generic
//! `monospace` font; coordinates are printed with one decimal, so the same
//! trace always gives the same bytes. Output stays bounded: with more than
//! [`MAX_LANES`] tasks the rest fold into one `+N more tasks` lane, and with
//! more than [`MAX_MARKS`] drawable marks, polls are counted per 4-pixel
//! column and drawn as density bars instead of one bar each. Red and orange
//! marks are always drawn, at most one per lane, pixel column and kind.

mod labels;
mod legend;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use self::labels::{escape, tick_step, time_label, truncate};
use super::{EventKind, Outcome, Trace};
use crate::vocab::TaskId;

/// Lanes drawn; tasks beyond `MAX_LANES - 1` share one folded lane.
pub const MAX_LANES: usize = 60;
/// Individual marks drawn before the timeline switches to density bars.
pub const MAX_MARKS: usize = 2_000;

const WIDTH: f64 = 1200.0;
const LABEL_W: f64 = 170.0;
const PLOT_X: f64 = LABEL_W + 12.0;
const PLOT_W: f64 = WIDTH - PLOT_X - 30.0;
const LANES_Y: f64 = 104.0;
const LANE_H: f64 = 20.0;
const BUCKET_PX: f64 = 4.0;
const LABEL_CHARS: usize = 24;
const MAX_LISTED_VIOLATIONS: usize = 8;

const POLL: &str = "#4c78a8";
const TICK: &str = "#333333";
const CANCEL: &str = "#d62728";
const TIMEOUT: &str = "#f28e2b";
const INJECT: &str = "#ff7f0e";
const VIOLATION: &str = "#a50000";
const LIFE: &str = "#b8b8b8";

/// The red and orange marks, drawn whatever the density.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Alert {
    Cancel,
    Timeout,
    Injection,
    Violation,
}

/// What the timeline shows of one task.
#[derive(Default)]
struct Lane {
    label: String,
    /// (start, end) positions of polls.
    polls: Vec<(u64, u64)>,
    /// Await point positions.
    ticks: Vec<u64>,
    alerts: Vec<(u64, Alert)>,
    /// Position and outcome of completion.
    end: Option<(u64, bool)>,
    born: Option<u64>,
    violated: bool,
}

impl Trace {
    /// The trace as a self-contained SVG timeline (see the
    /// [module documentation](self) for what it shows).
    ///
    /// ```
    /// let mut sim = cancelsim::Sim::new(cancelsim::Config::default());
    /// sim.block_on(async { cancelsim::yield_now().await }).unwrap();
    /// let svg = sim.trace().to_svg();
    /// assert!(svg.starts_with("<svg") && svg.contains(">main#0</text>"));
    /// ```
    pub fn to_svg(&self) -> String {
        let by_time = self.events().any(|event| event.time.as_nanos() > 0);
        let position = |event: &super::Event| {
            if by_time {
                event.time.as_nanos()
            } else {
                u64::from(event.step)
            }
        };
        let end = self
            .events()
            .map(|event| position(&event))
            .max()
            .unwrap_or(0)
            .max(1);
        let x = |pos: u64| PLOT_X + PLOT_W * (pos as f64 / end as f64);

        // Lanes: the first MAX_LANES - 1 tasks, then one folded lane.
        let tasks = self.tasks_seen();
        let folded = tasks.len() > MAX_LANES;
        let shown = if folded { MAX_LANES - 1 } else { tasks.len() };
        let lane_of: BTreeMap<TaskId, usize> = tasks
            .iter()
            .enumerate()
            .map(|(index, task)| (*task, index.min(shown)))
            .collect();
        let mut lanes: Vec<Lane> = tasks[..shown]
            .iter()
            .map(|task| Lane {
                label: self.task_label(*task),
                ..Lane::default()
            })
            .collect();
        if folded {
            lanes.push(Lane {
                label: format!("+{} more tasks", tasks.len() - shown),
                ..Lane::default()
            });
        }

        let mut open: BTreeMap<TaskId, u64> = BTreeMap::new();
        let mut violations: Vec<(String, String, u64)> = Vec::new();
        let mut injections: Vec<String> = Vec::new();
        for event in self.events() {
            let pos = position(&event);
            let lane = &mut lanes[lane_of[&event.task]];
            match event.kind {
                EventKind::Spawn { child, .. } => {
                    let child_lane = &mut lanes[lane_of[&child]];
                    child_lane.born = Some(child_lane.born.map_or(pos, |b| b.min(pos)));
                }
                EventKind::Poll => {
                    lane.born.get_or_insert(pos);
                    if let Some(start) = open.insert(event.task, pos) {
                        lane.polls.push((start, pos));
                    }
                }
                EventKind::Suspend { .. } => {
                    if let Some(start) = open.remove(&event.task) {
                        lane.polls.push((start, pos));
                    }
                    lane.ticks.push(pos);
                }
                EventKind::Complete { outcome } => {
                    if let Some(start) = open.remove(&event.task) {
                        lane.polls.push((start, pos));
                    }
                    let failed = !matches!(outcome, Outcome::Returned);
                    lane.end = Some((pos, failed));
                    if failed {
                        lane.alerts.push((pos, Alert::Cancel));
                    }
                }
                EventKind::CancelRequested { .. }
                | EventKind::CancelDelivered { .. }
                | EventKind::Abort { .. } => lane.alerts.push((pos, Alert::Cancel)),
                EventKind::TimeoutFired { .. } => lane.alerts.push((pos, Alert::Timeout)),
                EventKind::Injected { kind, point, .. } => {
                    lane.alerts.push((pos, Alert::Injection));
                    injections.push(format!(
                        "{} at {} await point {point}",
                        kind.name(),
                        self.task_label(event.task)
                    ));
                }
                EventKind::Violation { code } => {
                    lane.alerts.push((pos, Alert::Violation));
                    lane.violated = true;
                    violations.push((code.to_string(), self.task_label(event.task), pos));
                }
                _ => {}
            }
        }
        for (task, start) in open {
            lanes[lane_of[&task]].polls.push((start, end));
        }

        let marks: usize = lanes
            .iter()
            .map(|lane| lane.polls.len() + lane.ticks.len())
            .sum();
        let dense = marks > MAX_MARKS;

        let listed = violations.len().min(MAX_LISTED_VIOLATIONS);
        let footer_lines = usize::from(!injections.is_empty())
            + if violations.is_empty() {
                0
            } else {
                1 + listed + usize::from(violations.len() > listed)
            };
        let lanes_bottom = LANES_Y + LANE_H * lanes.len() as f64;
        let height = lanes_bottom + 34.0 + 16.0 * footer_lines as f64 + 8.0;

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" \
             viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"monospace\" font-size=\"11\">"
        );
        let _ = writeln!(
            svg,
            "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height:.0}\" fill=\"#ffffff\"/>"
        );

        // Title.
        let span = if by_time {
            format!("virtual time 0 to {}", time_label(end, end))
        } else {
            format!("{end} steps (virtual time did not advance)")
        };
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            escape(&format!(
                "cancelsim trace: seed {}, scheduler {}",
                self.seed(),
                self.scheduler()
            ))
        );
        let mut subtitle = format!(
            "{} events, {} tasks, {span}",
            self.len() as u64 + self.dropped(),
            tasks.len()
        );
        if self.dropped() > 0 {
            subtitle.push_str(&format!(" (only the last {} events kept)", self.len()));
        }
        if dense {
            subtitle.push_str(&format!(
                "; {marks} marks: polls aggregated per {BUCKET_PX:.0}px column"
            ));
        }
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"38\" fill=\"#555555\">{}</text>",
            escape(&subtitle)
        );

        self.legend(&mut svg, dense);

        // Lane backgrounds and labels.
        for (index, lane) in lanes.iter().enumerate() {
            let top = LANES_Y + LANE_H * index as f64;
            if index % 2 == 0 {
                let _ = writeln!(
                    svg,
                    "<rect x=\"0\" y=\"{top:.1}\" width=\"{WIDTH}\" height=\"{LANE_H}\" fill=\"#f3f5f8\"/>"
                );
            }
            let colour = if lane.violated { VIOLATION } else { "#222222" };
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{colour}\">{}</text>",
                LABEL_W - 8.0,
                top + LANE_H / 2.0 + 4.0,
                escape(&truncate(&lane.label, LABEL_CHARS))
            );
        }

        // Axis and grid.
        let step = tick_step(end, 10);
        let mut tick = 0;
        while tick <= end {
            let tx = x(tick);
            let label = if by_time {
                time_label(tick, end)
            } else {
                tick.to_string()
            };
            let _ = writeln!(
                svg,
                "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{lanes_bottom:.1}\" stroke=\"#dddddd\"/>",
                LANES_Y - 4.0
            );
            let _ = writeln!(
                svg,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555555\">{}</text>",
                LANES_Y - 8.0,
                escape(&label)
            );
            let _ = writeln!(
                svg,
                "<text x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555555\">{}</text>",
                lanes_bottom + 14.0,
                escape(&label)
            );
            tick = match tick.checked_add(step) {
                Some(next) => next,
                None => break,
            };
        }
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"{:.1}\" fill=\"#555555\">{}</text>",
            LANES_Y - 8.0,
            if by_time { "virtual time" } else { "step" }
        );

        // Lane contents.
        let buckets = (PLOT_W / BUCKET_PX) as usize;
        let bucket_of = |pos: u64| {
            ((x(pos) - PLOT_X) / BUCKET_PX)
                .floor()
                .min(buckets as f64 - 1.0) as usize
        };
        let mut counts: Vec<Vec<u32>> = Vec::new();
        let mut max_count = 1;
        if dense {
            for lane in &lanes {
                let mut row = vec![0u32; buckets];
                for &(start, _) in &lane.polls {
                    row[bucket_of(start)] += 1;
                }
                max_count = max_count.max(row.iter().copied().max().unwrap_or(0));
                counts.push(row);
            }
        }
        for (index, lane) in lanes.iter().enumerate() {
            let mid = LANES_Y + LANE_H * index as f64 + LANE_H / 2.0;
            // Life line, from spawn (or first sight) to completion.
            let born = lane.born.unwrap_or(0);
            let died = lane.end.map_or(end, |(pos, _)| pos);
            let _ = writeln!(
                svg,
                "<line x1=\"{:.1}\" y1=\"{mid:.1}\" x2=\"{:.1}\" y2=\"{mid:.1}\" stroke=\"{LIFE}\"/>",
                x(born),
                x(died).max(x(born) + 1.0)
            );
            if dense || (folded && index == lanes.len() - 1) {
                let (row, scale) = match counts.get(index) {
                    Some(row) => (row.clone(), max_count),
                    None => {
                        let mut row = vec![0u32; buckets];
                        for &(start, _) in &lane.polls {
                            row[bucket_of(start)] += 1;
                        }
                        let scale = row.iter().copied().max().unwrap_or(1).max(1);
                        (row, scale)
                    }
                };
                let mut bucket = 0;
                while bucket < buckets {
                    let count = row[bucket];
                    if count == 0 {
                        bucket += 1;
                        continue;
                    }
                    let h =
                        ((f64::from(count) / f64::from(scale)).sqrt() * (LANE_H - 4.0)).max(2.0);
                    let h = (h * 2.0).round() / 2.0;
                    let mut run = 1;
                    while bucket + run < buckets && row[bucket + run] > 0 {
                        let next = ((f64::from(row[bucket + run]) / f64::from(scale)).sqrt()
                            * (LANE_H - 4.0))
                            .max(2.0);
                        if (next * 2.0).round() / 2.0 != h {
                            break;
                        }
                        run += 1;
                    }
                    let _ = writeln!(
                        svg,
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{POLL}\"/>",
                        PLOT_X + BUCKET_PX * bucket as f64,
                        mid + (LANE_H - 4.0) / 2.0 - h,
                        BUCKET_PX * run as f64 - 0.5
                    );
                    bucket += run;
                }
            } else {
                for &(start, stop) in &lane.polls {
                    let width = (x(stop) - x(start)).max(2.0);
                    let _ = writeln!(
                        svg,
                        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"10\" fill=\"{POLL}\"/>",
                        x(start),
                        mid - 5.0
                    );
                }
                for &pos in &lane.ticks {
                    let tx = x(pos);
                    let _ = writeln!(
                        svg,
                        "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"{TICK}\"/>",
                        mid - 7.0,
                        mid + 7.0
                    );
                }
            }
            if let Some((pos, failed)) = lane.end {
                let fill = if failed { CANCEL } else { "#222222" };
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{mid:.1}\" r=\"2.5\" fill=\"{fill}\"/>",
                    x(pos)
                );
            }
            // Alerts: one per pixel column and kind, drawn last so they sit on top.
            let alerts: BTreeSet<(Alert, i64)> = lane
                .alerts
                .iter()
                .map(|&(pos, alert)| (alert, x(pos).round() as i64))
                .collect();
            for (alert, px) in alerts {
                let ax = px as f64;
                match alert {
                    Alert::Cancel | Alert::Timeout => {
                        let colour = if alert == Alert::Cancel {
                            CANCEL
                        } else {
                            TIMEOUT
                        };
                        let _ = writeln!(
                            svg,
                            "<line x1=\"{ax:.1}\" y1=\"{:.1}\" x2=\"{ax:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                            mid - LANE_H / 2.0 + 1.0,
                            mid + LANE_H / 2.0 - 1.0
                        );
                    }
                    Alert::Injection => {
                        let top = mid - LANE_H / 2.0 + 1.0;
                        let _ = writeln!(
                            svg,
                            "<path d=\"M{:.1} {top:.1}h8l-4 7z\" fill=\"{INJECT}\" stroke=\"#7a3d00\" stroke-width=\"0.5\"/>",
                            ax - 4.0
                        );
                    }
                    Alert::Violation => {
                        let _ = writeln!(
                            svg,
                            "<path d=\"M{ax:.1} {:.1}l6 6l-6 6l-6 -6z\" fill=\"{VIOLATION}\" stroke=\"#ffffff\" stroke-width=\"1\"/>",
                            mid - 6.0
                        );
                    }
                }
            }
        }

        // Violations, listed under the chart.
        let mut y = lanes_bottom + 34.0;
        if !injections.is_empty() {
            let mut text = format!(
                "injected: {}",
                injections[..injections.len().min(4)].join(", ")
            );
            if injections.len() > 4 {
                text.push_str(&format!(" and {} more", injections.len() - 4));
            }
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"{y:.1}\" fill=\"#7a3d00\">{}</text>",
                escape(&text)
            );
            y += 16.0;
        }
        if !violations.is_empty() {
            let _ = writeln!(
                svg,
                "<text x=\"10\" y=\"{y:.1}\" font-weight=\"bold\" fill=\"{VIOLATION}\">violations ({}):</text>",
                violations.len()
            );
            for (code, task, pos) in violations.iter().take(listed) {
                y += 16.0;
                let when = if by_time {
                    time_label(*pos, end)
                } else {
                    format!("step {pos}")
                };
                let _ = writeln!(
                    svg,
                    "<text x=\"24\" y=\"{y:.1}\" fill=\"{VIOLATION}\">{}</text>",
                    escape(&format!("{code}  {task}  at {when}"))
                );
            }
            if violations.len() > listed {
                y += 16.0;
                let _ = writeln!(
                    svg,
                    "<text x=\"24\" y=\"{y:.1}\" fill=\"{VIOLATION}\">… and {} more</text>",
                    violations.len() - listed
                );
            }
        }
        svg.push_str("</svg>\n");
        svg
    }
}
