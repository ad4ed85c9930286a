//! The text of a schedule: it round-trips, and garbage is rejected naming
//! the token.

use cancelsim::{Decision, Schedule, SchedulerKind};

use crate::{racy_program, run};

#[test]
fn schedule_text_round_trips() {
    let recorded = run(9, SchedulerKind::Random, racy_program).schedule;
    let text = recorded.to_string();
    let parsed: Schedule = text.parse().unwrap();
    assert_eq!(parsed, recorded);
    assert_eq!(parsed.to_string(), text);

    let written = "t1/3 m0/2 r42";
    let parsed: Schedule = written.parse().unwrap();
    assert_eq!(
        parsed.decisions(),
        [
            Decision::Task {
                options: 3,
                chosen: 1
            },
            Decision::Timer {
                options: 2,
                chosen: 0
            },
            Decision::Random(42),
        ]
    );
    assert_eq!(parsed.to_string(), written);
    assert_eq!("".parse::<Schedule>().unwrap(), Schedule::new());

    // `|` marks where a root future ended: after the last decision of a
    // one-`block_on` recording, and anywhere for several.
    assert!(text.ends_with(" |"), "{text}");
    let roots: Schedule = "t0/2 | | r5 |".parse().unwrap();
    assert_eq!(roots.len(), 2);
    assert_eq!(roots.root_ends(), [1, 1, 2]);
    assert_eq!(roots.to_string(), "t0/2 | | r5 |");
    assert_eq!("|".parse::<Schedule>().unwrap().root_ends(), [0]);
}

#[test]
fn schedule_text_rejects_garbage_and_names_the_token() {
    for garbage in [
        "x1/2", "t3/3", "t1", "t1/2/3", "r-5", "r", "m/2", "tt1/2", "t1/x",
    ] {
        let text = format!("t0/2 {garbage} r1");
        let error = text.parse::<Schedule>().unwrap_err();
        assert_eq!(error.token, 1, "{garbage}");
        assert_eq!(error.text, garbage);
        let message = error.to_string();
        assert!(message.contains(&format!("`{garbage}`")), "{message}");
    }
}
