//! The machine forms of a report: JSON with its documented fields and JUnit
//! XML (one test case per await point and kind), checked well-formed.

use std::collections::BTreeSet;

use crate::common::sweep;
use crate::{leaky_program, location_of, small_program};

// ----- JSON and JUnit --------------------------------------------------------

#[test]
fn json_has_the_documented_fields() {
    let report = sweep(leaky_program).run();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("valid JSON");
    assert_eq!(json["clean"], false);
    assert_eq!(json["scheduler"], "fifo");
    assert_eq!(json["seeds"], serde_json::json!([0]));
    assert!(json["shard"].is_null());
    assert!(json["pct_bound"].is_null());
    let counts = report.counts();
    let c = &json["counts"];
    assert_eq!(c["baselines"], counts.baselines);
    assert_eq!(c["await_points"], counts.await_points);
    assert_eq!(c["injectable_points"], counts.injectable_points);
    assert_eq!(c["runs"], counts.runs);
    assert_eq!(c["per_kind"]["cancel-drop"], 10);
    assert_eq!(c["per_kind"]["cancel-coop"], 10);
    assert_eq!(c["random_plans"], 0);
    assert_eq!(c["sampled_out"], 0);
    assert_eq!(c["tuples_planned"], counts.tuples_planned);
    assert_eq!(c["tuples_covered"], counts.tuples_covered);
    let failures = json["failures"].as_array().expect("an array");
    assert_eq!(failures.len(), report.failures().len());
    for (value, failure) in failures.iter().zip(report.failures()) {
        assert_eq!(value["repro"], failure.repro().to_string());
        assert!(value["await_point"].as_str().is_some(), "{value}");
        let violations = value["violations"].as_array().expect("an array");
        assert_eq!(violations.len(), failure.violations().len());
        for (v, violation) in violations.iter().zip(failure.violations()) {
            assert_eq!(v["code"], violation.code());
            assert_eq!(v["code"], "leaked-resource");
            assert_eq!(v["task"], violation.task_label().unwrap());
            assert_eq!(v["location"], violation.location().unwrap());
            assert_eq!(v["injection"], failure.repro().injections[0].to_string());
            assert_eq!(v["message"], violation.message());
            assert_eq!(v["hint"], violation.hint());
            assert!(v.get("await_point").is_some(), "{v}");
        }
    }
    let sharded: serde_json::Value =
        serde_json::from_str(&sweep(small_program).shard(1, 2).run().to_json()).unwrap();
    assert_eq!(
        sharded["shard"],
        serde_json::json!({"index": 1, "count": 2})
    );
    assert_eq!(sharded["clean"], true);
}

/// A minimal XML reader: checks well-formedness (one root, balanced tags,
/// quoted attributes, only the five predefined entities) and returns every
/// element as (name, attributes, path of enclosing element names).
type Element = (String, Vec<(String, String)>, Vec<String>);

fn parse_xml(xml: &str) -> Vec<Element> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .expect("an XML declaration");
    let mut elements = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = body;
    let check_text = |text: &str| {
        let mut text = text;
        while let Some(at) = text.find('&') {
            let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .into_iter()
                .find(|e| text[at..].starts_with(e))
                .unwrap_or_else(|| panic!("bad entity in {text:?}"));
            text = &text[at + entity.len()..];
        }
    };
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        assert!(
            !stack.is_empty() || text.trim().is_empty(),
            "text outside the root: {text:?}"
        );
        check_text(text);
        let close = rest[open..].find('>').expect("an unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attributes_text) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad tag name {name:?}"
        );
        let mut attributes = Vec::new();
        loop {
            attributes_text = attributes_text.trim_start();
            if attributes_text.is_empty() {
                break;
            }
            let (key, after) = attributes_text.split_once("=\"").expect("key=\"value\"");
            let end = after.find('"').expect("a closing quote");
            let value = &after[..end];
            assert!(!value.contains('<'), "raw < in an attribute: {value:?}");
            check_text(value);
            attributes.push((key.to_string(), value.to_string()));
            attributes_text = &after[end + 1..];
        }
        if stack.is_empty() {
            roots += 1;
        }
        elements.push((name.to_string(), attributes, stack.clone()));
        if !self_closing {
            stack.push(name.to_string());
        }
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest:?}");
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    assert_eq!(roots, 1, "one root element");
    elements
}

fn attribute<'a>(element: &'a Element, key: &str) -> &'a str {
    element
        .1
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} on <{}>", element.0))
}

#[test]
fn junit_has_one_testcase_per_await_point_and_kind() {
    let report = sweep(leaky_program).run();
    let xml = report.to_junit();
    let elements = parse_xml(&xml);
    let suite = &elements[0];
    assert_eq!(suite.0, "testsuite");
    let cases: Vec<&Element> = elements.iter().filter(|e| e.0 == "testcase").collect();
    // The baseline, then 5 await points x 2 kinds (both instants in one case).
    assert_eq!(cases.len(), 1 + 5 * 2, "{xml}");
    assert!(cases.iter().all(|c| c.2 == ["testsuite"]));
    assert!(attribute(cases[0], "name").starts_with("baseline cancelsim:v1 seed=0"));
    let names: BTreeSet<&str> = cases.iter().map(|c| attribute(c, "name")).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let worker_sleep = format!(
        "worker#1 await point 1 on sleep ({}) x cancel-drop",
        location_of("sleep(ms(5)).await;", "sleep")
    );
    assert!(names.contains(worker_sleep.as_str()), "{names:#?}");
    let main_join = format!(
        "main#0 await point 3 on join worker#1 ({}) x cancel-coop",
        location_of("let worker = spawn_named(\"worker\"", "spawn_named")
    );
    assert!(names.contains(main_join.as_str()), "{names:#?}");
    assert_eq!(attribute(suite, "tests"), cases.len().to_string());
    // Every drop case fails (a leaked resource); no cooperative one does.
    let failures: Vec<&Element> = elements.iter().filter(|e| e.0 == "failure").collect();
    assert_eq!(failures.len(), 5);
    assert_eq!(attribute(suite, "failures"), "5");
    for failure in &failures {
        assert_eq!(failure.2, ["testsuite", "testcase"]);
        // The codes of the run's violations (dropping main leaks both).
        assert!(attribute(failure, "message")
            .split(", ")
            .all(|code| code == "leaked-resource"));
    }
    assert!(xml.contains("repro: cancelsim:v1 seed=0 scheduler=fifo inject=cancel-drop@"));
    let failing_cases = xml
        .split("<testcase ")
        .filter(|case| case.contains("<failure"))
        .count();
    assert_eq!(failing_cases, 5);
    assert!(xml
        .split("<testcase ")
        .filter(|case| case.contains("<failure"))
        .all(|case| case.contains("x cancel-drop\"")));
}

#[test]
fn junit_of_a_clean_report_is_well_formed() {
    let xml = sweep(small_program).run().to_junit();
    let elements = parse_xml(&xml);
    assert_eq!(elements.iter().filter(|e| e.0 == "testcase").count(), 1 + 9);
    assert!(elements.iter().all(|e| e.0 != "failure"));
}
