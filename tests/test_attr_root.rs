//! The root of a `#[cancelsim::test]` is the test: a report that names
//! where the root task started (a deadlocked body waiting on a future from
//! outside cancelsim) points at the test's attribute, not at cancelsim's
//! harness.

#[cancelsim::test(explore = 0, cancel = "none")]
#[should_panic(
    expected = "main#0 at await point 1 waiting on a channel, lock, Notify or other future (task started at tests/test_attr_root.rs:6:1)"
)]
async fn a_deadlocked_body_is_located_at_its_test() {
    std::future::pending::<()>().await;
}
