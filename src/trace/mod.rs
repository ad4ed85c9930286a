//! The trace of a run: every event, in order, and its renderings: the stable
//! text form (`Display`, for snapshots), JSON lines ([`json`], for tools),
//! Chrome trace-event JSON (for Perfetto) and an SVG timeline ([`svg`]).
//!
//! Invariants: events are appended in the order they happen and carry only
//! virtual time, task ids and `'static` source locations, so the same run
//! always renders the same text. Locations are printed relative to the
//! package (or to the dependency's own directory), never as absolute paths.

pub mod chrome;
mod event;
mod interner;
pub mod json;
mod snapshot;
mod store;
pub mod svg;
mod text;

use std::borrow::Cow;

pub use crate::vocab::{display_location, display_path, IoWait, SourceLocation, Wait, WaitKind};
pub use event::{CancelVia, Event, EventKind, Outcome, WakeCause};
pub use json::JSON_FORMAT_VERSION;
pub use snapshot::redact_for_snapshot;
pub use text::Excerpt;

use crate::config::TraceMode;
use crate::vocab::TaskId;
use interner::Interner;
use store::EventStore;

/// The name of a root task (the future given to `block_on`).
pub(crate) const ROOT_NAME: &str = "main";

/// The version line at the top of the text form; bumped on any format change.
pub const TEXT_FORMAT_VERSION: &str = "cancelsim trace v2";

/// The recorded events of one run, with the names and messages they refer to.
#[derive(Clone, Debug)]
pub struct Trace {
    seed: u64,
    scheduler: Cow<'static, str>,
    events: EventStore,
    cap: Option<usize>,
    enabled: bool,
    /// Task names and messages; none until the first (an empty world,
    /// or a run of unnamed tasks, allocates nothing for them).
    texts: Option<Box<Interner>>,
    /// The first root task (`main`), kept out of `texts`: every run has
    /// one, and a map entry cost two allocations per world.
    first_root: Option<TaskId>,
}

impl Drop for Trace {
    fn drop(&mut self) {
        self.events.recycle();
    }
}

impl Trace {
    pub(crate) fn new(
        mode: TraceMode,
        seed: u64,
        scheduler: Cow<'static, str>,
        base_step: u32,
    ) -> Self {
        let (enabled, cap) = match mode {
            TraceMode::Full => (true, None),
            TraceMode::Last(n) => (true, Some(n)),
            TraceMode::Off => (false, None),
        };
        Trace {
            seed,
            scheduler,
            // A trace that is off stores nothing: no encoder to allocate.
            events: if enabled {
                EventStore::new(cap, base_step)
            } else {
                EventStore::Off
            },
            cap,
            enabled,
            texts: None,
            first_root: None,
        }
    }

    /// Where the world records events: the store's `push_*` methods each
    /// record one kind (or several events folded into one record) without
    /// building an `Event` first. A trace that is off ignores them.
    #[inline(always)]
    pub(crate) fn store(&mut self) -> &mut EventStore {
        &mut self.events
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub(crate) fn set_name(&mut self, task: TaskId, name: &str) {
        if self.enabled {
            self.texts.get_or_insert_default().set_name(task, name);
        }
    }

    /// `task` ended. A full trace keeps every name (its events all stay); a
    /// capped one forgets the names of ended tasks that no kept event
    /// mentions any more, so that a long run's names do not pile up.
    #[inline]
    pub(crate) fn task_ended(&mut self, task: TaskId) {
        let (Some(cap), Some(texts)) = (self.cap, self.texts.as_mut()) else {
            return;
        };
        let events = &self.events;
        texts.task_ended(task, cap, || events.iter());
    }

    /// (task names, distinct names, messages) kept.
    #[cfg(test)]
    fn text_counts(&self) -> (usize, usize, usize) {
        self.texts
            .as_ref()
            .map_or((0, 0, 0), |texts| texts.counts())
    }

    /// Names `task` as a root (`main`).
    pub(crate) fn set_root(&mut self, task: TaskId) {
        if self.enabled {
            match self.first_root {
                None => self.first_root = Some(task),
                Some(_) => self.set_name(task, ROOT_NAME),
            }
        }
    }

    /// The index of `message` among the trace's texts (each distinct text
    /// is kept once: a resource taken a million times costs one string).
    pub(crate) fn add_message(&mut self, message: String) -> u32 {
        self.texts.get_or_insert_default().add_message(message)
    }

    /// The events kept, oldest first.
    pub fn events(&self) -> impl Iterator<Item = Event> + '_ {
        self.events.iter()
    }

    /// Number of events kept.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// No events kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Events dropped because the trace was capped (`TraceMode::Last`).
    pub fn dropped(&self) -> u64 {
        self.events.dropped()
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The scheduler of the run, as text.
    pub fn scheduler(&self) -> &str {
        &self.scheduler
    }

    /// The name a task was spawned with (`main` for the root).
    pub fn task_name(&self, task: TaskId) -> Option<&str> {
        if self.first_root == Some(task) {
            return Some(ROOT_NAME);
        }
        self.texts.as_ref()?.name(task)
    }

    /// A panic message referred to by [`Outcome::Panicked`].
    pub fn message(&self, index: u32) -> Option<&str> {
        self.texts.as_ref()?.message(index)
    }

    /// `name#id`, or `#id` for an unnamed task.
    pub fn task_label(&self, task: TaskId) -> String {
        match self.task_name(task) {
            Some(name) => format!("{name}{task}"),
            None => format!("{task}"),
        }
    }
}

#[cfg(test)]
mod tests;
