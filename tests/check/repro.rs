//! Repro lines: the text of a run to replay, read back exactly, and garbage
//! rejected with what is wrong.

use cancelsim::{Repro, SchedulerKind};

use crate::common::sweep;
use crate::leaky_program;

// ----- Repro -----------------------------------------------------------------

#[test]
fn repro_lines_round_trip() {
    for line in [
        "cancelsim:v1 seed=0 scheduler=fifo",
        "cancelsim:v1 seed=7 scheduler=random inject=cancel-coop@1:3",
        "cancelsim:v1 seed=18446744073709551615 scheduler=pct:3 inject=cancel-drop@1:2,timeout@0:4/wake",
        "cancelsim:v1 seed=2 scheduler=pct:1 inject=timeout@12:1,cancel-coop@0:9/wake,cancel-drop@3:7",
    ] {
        let repro: Repro = line.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(repro.to_string(), line);
        assert_eq!(repro.to_string().parse::<Repro>().unwrap(), repro);
    }
    let baseline = Repro::baseline(7, SchedulerKind::Pct { depth: 3 });
    assert_eq!(baseline.to_string(), "cancelsim:v1 seed=7 scheduler=pct:3");
    assert_eq!(baseline.to_string().parse::<Repro>().unwrap(), baseline);
    // Whitespace around and between the words does not matter.
    let spaced: Repro = "  cancelsim:v1\tseed=7   scheduler=pct:3 \n"
        .parse()
        .unwrap();
    assert_eq!(spaced, baseline);
}

#[test]
fn repros_of_a_report_round_trip() {
    let report = sweep(leaky_program).run();
    assert!(!report.failures().is_empty());
    for failure in report.failures() {
        let line = failure.repro().to_string();
        assert!(!line.contains('\n'), "one line: {line}");
        assert_eq!(&line.parse::<Repro>().unwrap(), failure.repro());
    }
}

#[test]
fn garbage_repro_lines_are_rejected_with_what_is_wrong() {
    let cases = [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("hello world", "it starts with `hello`"),
        (
            "cancelsim:v2 seed=1 scheduler=fifo",
            "version `cancelsim:v2` is not supported (this cancelsim reads `cancelsim:v1`)",
        ),
        (
            "cancelsim:v1 seed=x scheduler=fifo",
            "seed `x` is not a number",
        ),
        (
            "cancelsim:v1 seed=-1 scheduler=fifo",
            "seed `-1` is not a number",
        ),
        ("cancelsim:v1 scheduler=fifo", "`seed=` is missing"),
        ("cancelsim:v1 seed=1", "`scheduler=` is missing"),
        (
            "cancelsim:v1 seed=1 scheduler=lifo",
            "unknown scheduler `lifo`",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=pct:0",
            "unknown scheduler `pct:0`",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo color=red",
            "unknown field `color`",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo seed",
            "`seed` is not key=value",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=boom@1:2",
            "injection `boom@1:2` is not KIND@TASK:POINT[/wake]",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=cancel-drop@1:0",
            "injection `cancel-drop@1:0` is not",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=cancel-drop@1",
            "injection `cancel-drop@1` is not",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=timeout@x:1",
            "injection `timeout@x:1` is not",
        ),
        (
            "cancelsim:v1 seed=1 scheduler=fifo inject=timeout@1:2/later",
            "injection `timeout@1:2/later` is not",
        ),
    ];
    for (line, expected) in cases {
        let error = line
            .parse::<Repro>()
            .expect_err(&format!("`{line}` must be rejected"));
        let message = error.to_string();
        assert!(
            message.starts_with("not a cancelsim repro: ") && message.contains(expected),
            "`{line}`: {message}"
        );
        // Every message shows what a good line looks like.
        assert!(
            message.contains("expected e.g. `cancelsim:v1 seed=7"),
            "{message}"
        );
    }
}
