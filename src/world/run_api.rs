//! What the world's callers outside it (`Sim`, a `Check` run, the
//! user-facing modules) read and set: a small API over fields that stay
//! private to the world.

use std::collections::BTreeMap;

use super::oracle_state::Panicked;
use super::World;
use crate::config::Config;
use crate::inject::InjectionPlan;
use crate::trace::SourceLocation;
use crate::vocab::{TaskId, Violation};

impl World {
    /// The number that identifies this world in the process.
    #[inline(always)]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The configuration the world was made with.
    #[inline(always)]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Slots of the task table, occupied or free.
    pub fn task_slots(&self) -> usize {
        self.core.borrow().tasks.slot_count()
    }

    /// Whether a drop injection hit the root (its owner drops its future);
    /// the request is taken.
    #[inline(always)]
    pub fn take_root_drop_request(&self) -> bool {
        self.root_drop_requested.take()
    }

    /// The run's injection plan: what fired and what did not.
    pub fn plan(&self) -> InjectionPlan {
        self.plan.borrow().clone()
    }

    /// Registers a user invariant, checked when the run ends.
    pub fn add_invariant(&self, name: String, check: Box<dyn Fn() -> bool>, at: SourceLocation) {
        self.oracles.borrow_mut().invariants.push((name, check, at));
    }

    /// The tasks that panicked in this plan's baseline: their observed
    /// panics are not news in an injected run.
    pub fn set_baseline_panics(&self, tasks: impl IntoIterator<Item = TaskId>) {
        self.oracles.borrow_mut().baseline_panics = tasks.into_iter().collect();
    }

    /// Whether `task` panicked in this plan's baseline.
    pub fn is_baseline_panic(&self, task: TaskId) -> bool {
        self.oracles.borrow().baseline_panics.contains(&task)
    }

    /// The violations found so far (taken).
    pub fn take_violations(&self) -> Vec<Violation> {
        std::mem::take(&mut self.oracles.borrow_mut().violations)
    }

    /// The last `count` violations found (taken), oldest first.
    pub fn take_last_violations(&self, count: usize) -> Vec<Violation> {
        let mut oracles = self.oracles.borrow_mut();
        let at = oracles.violations.len().saturating_sub(count);
        oracles.violations.split_off(at)
    }

    /// The panics of tasks no one observed yet (taken).
    pub fn take_panics(&self) -> BTreeMap<TaskId, Panicked> {
        std::mem::take(&mut self.oracles.borrow_mut().panics)
    }

    /// Notes that `task` panicked in this run.
    pub fn note_panicked(&self, task: TaskId) {
        self.oracles.borrow_mut().panicked_tasks.push(task);
    }

    /// Every task that panicked in this run (taken).
    pub fn take_panicked_tasks(&self) -> Vec<TaskId> {
        std::mem::take(&mut self.oracles.borrow_mut().panicked_tasks)
    }

    /// Panics that followed only from an injected abort (not reported),
    /// and whether the root failed on its own timeout after an injection
    /// expired it (its assertion, not a bug).
    pub fn consequences(&self) -> (u32, bool) {
        let oracles = self.oracles.borrow();
        (oracles.consequences, oracles.assertion_timeout)
    }
}
