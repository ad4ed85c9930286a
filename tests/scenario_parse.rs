//! Scenario files: each kind of error names the file, line and column,
//! underlines the text and gives a hint; the parser and loader never panic.

#![cfg(feature = "scenario")]

use cancelsim::scenario::{load_str, parse_duration};
use proptest::prelude::*;

/// Loads `text`, expects an error at `line`:`column` whose message contains
/// `message`, and returns its rendered form.
fn error_at(text: &str, line: usize, column: usize, message: &str) -> String {
    let error = load_str("bad.kdl", text).expect_err("the file is wrong");
    assert!(
        error.message().contains(message),
        "{:?} does not contain {message:?}",
        error.message()
    );
    assert_eq!((error.line(), error.column()), (line, column), "{error}");
    assert!(!error.hint().is_empty());
    let rendered = error.render(false);
    assert!(
        rendered.contains(&format!("bad.kdl:{line}:{column}")),
        "{rendered}"
    );
    assert!(rendered.contains("help:"), "{rendered}");
    rendered
}

#[test]
fn an_unknown_step_is_underlined_with_a_suggestion() {
    let rendered = error_at(
        "task main {\n    sleeep \"1s\"\n}\n",
        2,
        5,
        "unknown step `sleeep`",
    );
    assert!(rendered.contains("did you mean `sleep`"), "{rendered}");
    assert!(rendered.contains("──"), "underlined: {rendered}");
}

#[test]
fn a_bad_duration_says_how_to_write_one() {
    error_at("task main {\n    sleep \"ten\"\n}\n", 2, 11, "bad duration");
    let rendered = error_at("task main {\n    sleep 250\n}\n", 2, 11, "has no unit");
    assert!(rendered.contains("\"250ms\""), "{rendered}");
}

#[test]
fn an_undefined_task_is_named() {
    error_at(
        "task main {\n    spawn ghost\n}\n",
        2,
        5,
        "task `ghost` is not defined",
    );
}

#[test]
fn a_missing_main_is_reported() {
    error_at("task worker {\n    yield\n}\n", 1, 1, "no `main` task");
}

#[test]
fn a_join_of_a_task_never_spawned_is_reported() {
    error_at(
        "task main {\n    join worker\n}\ntask worker {\n    yield\n}\n",
        2,
        5,
        "never spawned",
    );
}

#[test]
fn an_unbounded_spawn_cycle_is_reported() {
    error_at(
        "task main {\n    spawn a\n}\ntask a {\n    spawn b\n}\ntask b {\n    spawn a\n}\n",
        8,
        5,
        "unbounded spawn cycle: a → b → a",
    );
}

#[test]
fn invalid_kdl_and_handler_mistakes_are_reported() {
    error_at("task main {\n    sleep \"1s\"\n", 1, 11, "not valid KDL");
    error_at(
        "task main {\n    try {\n        yield\n    }\n    on-cancel {\n        log \"x\"\n    }\n}\n",
        5,
        5,
        "must end with `reraise` or `swallow`",
    );
    error_at(
        "task main {\n    finally {\n    }\n}\n",
        2,
        5,
        "without a `try`",
    );
    error_at(
        "task main {\n    yield\n}\nexpect {\n    violations leaky\n}\n",
        5,
        16,
        "unknown violation code",
    );
}

#[test]
fn durations_have_units() {
    assert_eq!(
        parse_duration("250ms"),
        Some(std::time::Duration::from_millis(250))
    );
    assert_eq!(
        parse_duration("1.5s"),
        Some(std::time::Duration::from_millis(1500))
    );
    assert_eq!(parse_duration("3"), None);
    assert_eq!(parse_duration("ms"), None);
}

fn catalogue_texts() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic_the_loader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = load_str("fuzz.kdl", &text).map_err(|e| e.render(false));
    }

    #[test]
    fn mutated_catalogue_files_never_panic_the_loader(
        file in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, "[ -~\n{}\"]{0,4}"), 1..6),
    ) {
        let texts = catalogue_texts();
        let mut text: Vec<char> = texts[file.index(texts.len())].chars().collect();
        for (at, kind, insert) in edits {
            let at = at.index(text.len() + 1);
            match kind {
                0 => { text.splice(at..at, insert.chars()); }
                1 => { let end = (at + 3).min(text.len()); text.drain(at..end); }
                _ => { let end = (at + insert.len()).min(text.len()); text.splice(at..end, insert.chars()); }
            }
        }
        let text: String = text.into_iter().collect();
        if let Err(error) = load_str("mutated.kdl", &text) {
            let _ = (error.line(), error.column(), error.render(false));
        }
    }
}

/// `depth` nested `group { }` blocks around a `yield` in `main`.
fn nested(depth: usize) -> String {
    let mut text = String::from("task main {\n");
    for _ in 0..depth {
        text.push_str("group {\n");
    }
    text.push_str("yield\n");
    for _ in 0..depth {
        text.push_str("}\n");
    }
    text.push_str("}\n");
    text
}

#[test]
fn deep_nesting_is_a_located_error_before_the_kdl_parser_recurses() {
    // 1,275 levels overflowed the stack inside the KDL parser.
    let text = nested(1275);
    // Line 1 is `task main {` (level 1), then one `group {` per line.
    let rendered = error_at(&text, 33, 7, "nested more than 32 levels deep");
    assert!(rendered.contains("flatten"), "{rendered}");
    // An unclosed tower of comments, too.
    let comments = format!("task main {{ yield }}\n{}", "/*".repeat(5000));
    error_at(&comments, 2, 65, "nested more than 32 levels deep");
}

#[test]
fn nesting_within_the_limit_loads_and_braces_in_strings_and_comments_do_not_count() {
    // 31 levels inside `main`, every kind of block: they load and run.
    for block in ["group {", "repeat 1 {", "shield {", "timeout \"1s\" {"] {
        let text = format!(
            "task main {{\n{}yield\n{}}}\n",
            format!("{block}\n").repeat(31),
            "}\n".repeat(31)
        );
        let scenario = std::sync::Arc::new(load_str("ok.kdl", &text).expect("31 levels are fine"));
        let baseline = cancelsim::scenario::baseline(&scenario, 0);
        assert!(baseline.error.is_none(), "{block}: {:?}", baseline.error);
    }
    // More than 32 braces, in a string, a comment, a raw string: text.
    let braces = "{".repeat(60);
    for text in [
        format!("about \"{braces}\"\ntask main {{ yield }}\n"),
        format!("// {braces}\n/* {braces} */\ntask main {{ yield }}\n"),
        format!("task main {{\n    log #\"{braces}\"#\n}}\n"),
    ] {
        load_str("ok.kdl", &text).expect("braces in strings and comments are text");
    }
}

#[test]
fn an_oversized_file_is_a_located_error_without_parsing_it() {
    let text = format!("about \"{}\"\ntask main {{ yield }}\n", "x".repeat(2 << 20));
    let error = load_str("huge.kdl", &text).expect_err("too large");
    assert!(
        error.message().contains("more than the 1048576 bytes"),
        "{error}"
    );
    assert_eq!((error.line(), error.column()), (1, 1));
    assert!(!error.hint().is_empty());
}

#[test]
fn what_the_fuzzer_found_is_a_located_error() {
    // A string left open at the end of its line ends there (KDL 2): the
    // braces after it are nodes to the parser, so they count.
    let open = format!(
        "task main {{\n    log \"unterminated\n{}yield\n}}\n",
        "{".repeat(80)
    );
    error_at(&open, 3, 32, "nested more than 32 levels deep");
    // A control character or a byte-order mark inside the file.
    error_at(
        "about \"a\u{0}b\"\ntask main { yield }\n",
        1,
        9,
        "U+0000 is not allowed",
    );
    error_at(
        "task main {\n  \u{feff}yield\n}\n",
        2,
        3,
        "U+FEFF is not allowed",
    );
    // A byte-order mark at the start is fine.
    load_str("ok.kdl", "\u{feff}task main { yield }\n").expect("a leading BOM is allowed");
}

#[test]
fn a_variable_never_set_is_named_with_how_to_set_it() {
    let rendered = error_at(
        "task main {\n    log \"got {answer}\"\n}\n",
        2,
        5,
        "task `main` never sets `answer`",
    );
    assert!(rendered.contains("let answer"), "{rendered}");
    error_at(
        "task main {\n    log \"bad {brace\"\n}\n",
        2,
        9,
        "is not closed",
    );
}

#[test]
fn primitives_must_be_declared_and_of_the_right_kind() {
    let rendered = error_at(
        "task main {\n    put jobs \"x\"\n}\n",
        2,
        5,
        "nothing called `jobs` is declared",
    );
    assert!(rendered.contains("queue jobs"), "{rendered}");
    error_at(
        "event ready\ntask main {\n    put ready \"x\"\n}\n",
        3,
        5,
        "`ready` is an event",
    );
    error_at(
        "queue jobs\nqueue jobs\ntask main {\n    yield\n}\n",
        2,
        1,
        "declared twice",
    );
}

#[test]
fn spawn_arguments_match_the_tasks_parameters() {
    let rendered = error_at(
        "task main {\n    spawn fetch\n}\ntask fetch url {\n    log \"{url}\"\n}\n",
        2,
        5,
        "gives 0 arguments, task `fetch` takes 1",
    );
    assert!(rendered.contains("spawn fetch URL"), "{rendered}");
    error_at(
        "task main {\n    spawn fetch as=f\n    join g\n}\ntask fetch {\n    yield\n}\n",
        3,
        5,
        "task `g` is not defined",
    );
}

#[test]
fn misplaced_break_raise_and_handlers_are_reported() {
    error_at(
        "task main {\n    break\n}\n",
        2,
        5,
        "`break` outside `repeat`",
    );
    error_at("task main {\n    reraise\n}\n", 2, 5, "bare `raise`");
    error_at(
        "task main {\n    try {\n        yield\n    }\n    except* ValueError {\n    }\n    except KeyError {\n    }\n}\n",
        7,
        5,
        "`except*` and other handlers",
    );
    error_at(
        "task main {\n    try {\n        yield\n    }\n    finally {\n    }\n    except {\n    }\n}\n",
        7,
        5,
        "out of order",
    );
    error_at(
        "task main {\n    try {\n        yield\n    }\n    else {\n    }\n}\n",
        5,
        5,
        "`else` after a `try` with no handler",
    );
    error_at(
        "task main {\n    raise valueError\n}\n",
        2,
        11,
        "not an exception type",
    );
}

#[test]
fn conditions_and_wait_options_say_how_to_write_them() {
    error_at(
        "task main {\n    if sunny {\n        yield\n    }\n}\n",
        2,
        8,
        "unknown condition `sunny`",
    );
    error_at(
        "task main {\n    spawn a\n    wait a return-when=SOON\n}\ntask a {\n    yield\n}\n",
        3,
        12,
        "unknown return-when",
    );
}

#[test]
fn return_and_break_in_an_except_star_handler_are_reported() {
    error_at(
        "task main {\n    try {\n        yield\n    }\n    except* ValueError {\n        return x\n    }\n}\n",
        6,
        9,
        "`return` in an `except*` handler",
    );
    load_str(
        "ok.kdl",
        "task main {\n    try {\n        yield\n    }\n    except* ValueError {\n        repeat 2 {\n            break\n        }\n    }\n}\n",
    )
    .expect("a break inside a repeat inside except* is fine");
}
