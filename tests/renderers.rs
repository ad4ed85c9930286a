//! The trace renderers (JSON lines, Chrome trace, SVG) and the artifacts a
//! report writes, validated by parsing them back.

use std::collections::{BTreeMap, BTreeSet};
use std::mem::ManuallyDrop;
use std::time::Duration;

use cancelsim::cancel::{checkpoint, Cancelled, OrCancel};
use cancelsim::check::ArtifactFormat;
use cancelsim::time::{sleep, timeout};
use cancelsim::{spawn_named, CancelMode, Check, Config, Sim, Trace};
use serde_json::Value;

mod common;
use common::ms;

/// A worker whose connection goes back to the pool on the success path only.
async fn pool_user() {
    let fetch = spawn_named("fetch", async {
        sleep(ms(40)).await;
        sleep(ms(60)).await;
        1
    })
    .abort_on_drop();
    let worker = spawn_named("worker", async {
        for _ in 0..3 {
            let conn = ManuallyDrop::new(cancelsim::resource::acquire("conn"));
            sleep(ms(30)).or_cancel().await?;
            ManuallyDrop::into_inner(conn).release();
            checkpoint().await?;
        }
        Ok::<(), Cancelled>(())
    })
    .abort_on_drop();
    let _ = worker.await;
    let _ = fetch.await;
    let _ = timeout(ms(20), sleep(ms(1000))).await;
}

fn failing_report() -> cancelsim::Report {
    Check::new(pool_user)
        .cancel_at_every_await(CancelMode::Both)
        .threads(1)
        .run()
}

/// The trace of the run with a cancel injected at the worker's third await point.
fn failing_trace() -> Trace {
    let report = failing_report();
    report
        .failures()
        .iter()
        .find(|f| f.repro().injections.iter().any(|i| i.point == 3))
        .expect("a cancel at the worker's third await point leaks")
        .trace()
        .clone()
}

/// `tasks` tasks sleeping and yielding `rounds` times, some cancelled.
async fn busy(tasks: u64, rounds: u64) {
    let mut handles = Vec::new();
    for index in 0..tasks {
        handles.push(spawn_named(&format!("worker-{index:02}"), async move {
            for round in 0..rounds {
                if (round + index) % 3 == 0 {
                    cancelsim::yield_now().await;
                } else {
                    sleep(Duration::from_micros(100 + 37 * ((index * 7 + round) % 11))).await;
                }
                checkpoint().await?;
            }
            Ok::<(), Cancelled>(())
        }));
    }
    sleep(ms(1)).await;
    for handle in handles.iter().skip(3).step_by(10) {
        handle.cancel();
    }
    for handle in handles {
        let _ = handle.await;
    }
}

fn busy_trace(tasks: u64, rounds: u64) -> Trace {
    let mut sim = Sim::new(Config::default().seed(3).max_steps(1_000_000));
    sim.block_on(busy(tasks, rounds)).unwrap();
    let trace = sim.trace().clone();
    trace
}

fn kinds(trace: &Trace) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for event in trace.events() {
        *counts.entry(event.kind.name()).or_default() += 1;
    }
    counts
}

fn no_absolute_paths(text: &str) {
    assert!(!text.contains(env!("CARGO_MANIFEST_DIR")));
    for (at, _) in text.match_indices("\"/") {
        assert!(
            text[at + 2..].starts_with('>'),
            "absolute path in output: {}",
            &text[at..(at + 60).min(text.len())]
        );
    }
}

#[test]
fn json_lines_parse_back_with_the_trace_kinds_and_counts() {
    let trace = failing_trace();
    let jsonl = trace.to_json_lines();
    no_absolute_paths(&jsonl);
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let header = &lines[0];
    assert_eq!(header["format"], "cancelsim-trace");
    assert_eq!(header["version"], cancelsim::trace::JSON_FORMAT_VERSION);
    assert_eq!(header["seed"], trace.seed());
    assert_eq!(header["scheduler"], trace.scheduler());
    assert_eq!(header["events"], trace.len());
    assert_eq!(lines.len(), trace.len() + 1);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (line, event) in lines[1..].iter().zip(trace.events()) {
        assert_eq!(line["step"], event.step);
        assert_eq!(line["time_ns"], event.time.as_nanos());
        assert_eq!(line["task"], event.task.as_u32());
        assert_eq!(line["kind"], event.kind.name());
        *counts.entry(line["kind"].as_str().unwrap()).or_default() += 1;
    }
    assert_eq!(counts, kinds(&trace));
    for kind in ["spawn", "poll", "suspend", "injected", "abort", "violation"] {
        assert!(counts.contains_key(kind), "no {kind} in {counts:?}");
    }
    let violation = lines
        .iter()
        .find(|line| line["kind"] == "violation")
        .unwrap();
    assert_eq!(violation["code"], "leaked-resource");
    let spawn = lines.iter().find(|line| line["kind"] == "spawn").unwrap();
    assert!(
        spawn["at"]
            .as_str()
            .unwrap()
            .starts_with("tests/renderers.rs:"),
        "{spawn}"
    );
    let suspend = lines.iter().find(|line| line["kind"] == "suspend").unwrap();
    assert!(suspend["ordinal"].as_u64().unwrap() >= 1 && suspend["wait"].is_string());
}

#[test]
fn chrome_json_has_a_lane_per_task_slices_and_paired_flows() {
    let trace = failing_trace();
    let chrome: Value = serde_json::from_str(&trace.to_chrome_json()).expect("JSON");
    no_absolute_paths(&trace.to_chrome_json());
    let events = chrome["traceEvents"].as_array().expect("traceEvents");
    let tasks: BTreeSet<u32> = trace
        .events()
        .map(|event| event.task.as_u32())
        .collect::<BTreeSet<_>>();
    let thread_names: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .collect();
    assert_eq!(thread_names.len(), tasks.len());
    let named: BTreeSet<u64> = thread_names
        .iter()
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    assert_eq!(named.len(), tasks.len(), "one thread_name per task");
    assert!(thread_names.iter().any(|e| e["args"]["name"] == "worker#2"));

    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(slices.len(), kinds(&trace)["poll"]);
    for slice in &slices {
        assert!(slice["dur"].as_f64().unwrap() > 0.0, "{slice}");
        assert!(slice["ts"].as_f64().unwrap() >= 0.0);
    }
    // Slices of one task never overlap.
    let mut by_task: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
    for slice in &slices {
        by_task
            .entry(slice["tid"].as_u64().unwrap())
            .or_default()
            .push((
                slice["ts"].as_f64().unwrap(),
                slice["dur"].as_f64().unwrap(),
            ));
    }
    for spans in by_task.values() {
        for pair in spans.windows(2) {
            assert!(
                pair[0].0 + pair[0].1 <= pair[1].0 || pair[0].0 == pair[1].0,
                "{pair:?}"
            );
        }
    }

    let starts: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "s")
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    let finishes: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["ph"] == "f")
        .map(|e| {
            assert_eq!(e["bp"], "e");
            e["id"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(starts, finishes, "every flow start has its finish");
    assert_eq!(starts.len(), kinds(&trace)["spawn"]);

    let instants: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["ph"] == "i")
        .map(|e| e["cat"].as_str().unwrap())
        .collect();
    for kind in ["suspend", "wake", "injected", "violation", "timeout_fired"] {
        assert!(instants.contains(kind), "no {kind} instant in {instants:?}");
    }
}

/// Well-formed XML (quick-xml checks end tag names), with its element names.
fn parse_xml(svg: &str) -> BTreeMap<String, usize> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut depth = 0i32;
    let mut elements = BTreeMap::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => {
                depth += 1;
                *elements
                    .entry(String::from_utf8(start.name().as_ref().to_vec()).unwrap())
                    .or_default() += 1;
            }
            Event::Empty(empty) => {
                for attribute in empty.attributes() {
                    attribute.expect("well-formed attribute");
                }
                *elements
                    .entry(String::from_utf8(empty.name().as_ref().to_vec()).unwrap())
                    .or_default() += 1;
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    elements
}

#[test]
fn svg_is_well_formed_with_a_lane_per_task_a_legend_and_red_marks() {
    let trace = failing_trace();
    let svg = trace.to_svg();
    no_absolute_paths(&svg);
    let elements = parse_xml(&svg);
    assert_eq!(elements["svg"], 1);
    assert!(!svg.contains("<script") && !svg.contains("href"));
    assert!(svg.contains("font-family=\"monospace\""));
    for label in ["main#0", "fetch#1", "worker#2"] {
        assert_eq!(
            svg.matches(&format!(">{label}</text>")).count(),
            1,
            "one lane label {label}"
        );
    }
    for entry in [
        "poll",
        "await point",
        "cancel / abort",
        "injection",
        "violation",
    ] {
        assert!(svg.contains(&format!(">{entry}</text>")), "legend: {entry}");
    }
    assert!(svg.contains("stroke=\"#d62728\""), "red cancel mark");
    assert!(svg.contains("fill=\"#ff7f0e\""), "orange injection mark");
    assert!(svg.contains("leaked-resource"), "violation listed");
    assert!(svg.len() < 50_000, "{}", svg.len());
}

#[test]
fn a_busy_svg_of_50_tasks_and_10_000_events_aggregates_and_stays_small() {
    let trace = busy_trace(50, 60);
    assert!(trace.len() >= 10_000, "{}", trace.len());
    let svg = trace.to_svg();
    assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
    let elements = parse_xml(&svg);
    assert!(svg.contains("polls aggregated"), "density mode");
    assert!(elements["rect"] < 20_000, "{elements:?}");
    assert!(svg.contains(">worker-49#50</text>"));
    assert!(svg.contains("stroke=\"#d62728\""), "cancels still marked");
    assert!(!svg.contains("more tasks"));

    // More than 60 tasks: the rest fold into one lane.
    let svg = busy_trace(80, 5).to_svg();
    parse_xml(&svg);
    assert!(svg.contains(">+22 more tasks</text>"), "folded lane");
    assert!(svg.contains(">worker-57#58</text>"));
    assert!(!svg.contains(">worker-58#59</text>"));
}

#[test]
fn an_excerpt_keeps_the_first_and_last_events_and_counts_the_rest() {
    let trace = busy_trace(5, 60);
    let full = trace.to_string();
    let lines: Vec<&str> = full.lines().collect();
    // Version, seed, column header, then one line per event.
    let (header, events) = lines.split_at(3);
    assert_eq!(events.len(), trace.len());
    assert!(trace.len() > 500, "{}", trace.len());

    let excerpt = trace.excerpt(10, 20, "see the artifacts").to_string();
    let kept: Vec<&str> = excerpt.lines().collect();
    assert_eq!(kept.len(), 3 + 10 + 1 + 20, "{excerpt}");
    assert_eq!(kept[..3], header[..]);
    assert_eq!(kept[3..13], events[..10]);
    assert_eq!(
        kept[13],
        format!(
            "     … {} events omitted (see the artifacts)",
            trace.len() - 30
        )
    );
    assert_eq!(kept[14..], events[events.len() - 20..]);

    // Short enough: the whole trace, as `Display` writes it.
    assert_eq!(trace.excerpt(trace.len(), 0, "x").to_string(), full);
    assert_eq!(trace.excerpt(trace.len() - 10, 10, "x").to_string(), full);
    assert_eq!(
        failing_trace().excerpt(200, 200, "").to_string(),
        failing_trace().to_string()
    );
}

#[test]
fn same_seed_gives_identical_renderings() {
    let (a, b) = (failing_trace(), failing_trace());
    assert_eq!(a.to_json_lines(), b.to_json_lines());
    assert_eq!(a.to_chrome_json(), b.to_chrome_json());
    assert_eq!(a.to_svg(), b.to_svg());
    let (a, b) = (busy_trace(50, 20), busy_trace(50, 20));
    assert_eq!(a.to_json_lines(), b.to_json_lines());
    assert_eq!(a.to_chrome_json(), b.to_chrome_json());
    assert_eq!(a.to_svg(), b.to_svg());
}

#[test]
fn the_report_writes_every_failing_trace_in_every_format() {
    let report = failing_report();
    assert!(!report.is_clean());
    let dir = std::env::temp_dir().join(format!(
        "cancelsim-artifacts-{}-{}",
        std::process::id(),
        line!()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let written = report
        .write_artifacts(&dir, ArtifactFormat::ALL)
        .expect("artifacts written");
    assert_eq!(written.len(), 4 * report.failures().len());
    let names: Vec<String> = written
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in [
        "failure-000-leaked-resource.trace.txt",
        "failure-000-leaked-resource.jsonl",
        "failure-000-leaked-resource.chrome.json",
        "failure-000-leaked-resource.svg",
    ] {
        assert!(names.contains(&name.to_string()), "{name} in {names:?}");
    }
    for path in &written {
        let text = std::fs::read_to_string(path).unwrap();
        no_absolute_paths(&text);
    }
    let text = std::fs::read_to_string(dir.join("failure-000-leaked-resource.trace.txt")).unwrap();
    assert!(text.starts_with("# cancelsim:v1 seed=0"), "{text}");
    assert!(text.contains("\ncancelsim trace v2\n"));
    // Only some formats.
    let only_svg = dir.join("svg-only");
    let written = report
        .write_artifacts(&only_svg, &[ArtifactFormat::Svg])
        .unwrap();
    assert!(written
        .iter()
        .all(|path| path.extension().unwrap() == "svg"));
    std::fs::remove_dir_all(&dir).unwrap();
}
