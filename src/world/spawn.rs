//! Spawning: a new task slot in the table, for spawned tasks and the root.

use std::future::Future;
use std::rc::Rc;

use super::TaskBody;
use super::{Completion, NewTask, TaskFuture};
use crate::trace::{EventKind, SourceLocation};
use crate::vocab::{TaskKey, TaskKind};

use super::World;

impl World {
    // ----- spawning -------------------------------------------------------------

    fn new_slot(
        self: &Rc<World>,
        kind: TaskKind,
        name: Option<Rc<str>>,
        at: SourceLocation,
        future: Option<TaskFuture>,
        completion: Option<Rc<dyn Completion>>,
    ) -> TaskKey {
        let parent = self.current_id();
        // Queued below.
        let key = self.core.borrow_mut().tasks.insert(
            self.id,
            NewTask {
                kind,
                name: name.clone(),
                parent,
                at,
                future,
                completion,
            },
        );
        if kind == TaskKind::User {
            self.inherit_signal(key);
        }
        if self.collecting.get() {
            if let Some(name) = &name {
                self.spawned_names.borrow_mut().push((key.id, name.clone()));
            }
        }
        if self.trace_on {
            if kind == TaskKind::Root {
                self.trace.borrow_mut().set_root(key.id);
            } else if let Some(name) = &name {
                self.trace.borrow_mut().set_name(key.id, name);
            }
            if let Some(parent) = parent {
                self.record(parent, EventKind::Spawn { child: key.id, at });
            }
        }
        if kind == TaskKind::Root && self.config.root_first {
            self.hold_root(key);
        } else {
            self.ready.borrow_mut().push_back(key);
        }
        key
    }

    /// Spawns a task; returns its key and join slot. Inlined, like its
    /// callers: the future is then moved into its box once, not copied
    /// through each call's stack frame.
    #[inline]
    pub fn spawn<F>(
        self: &Rc<World>,
        future: F,
        kind: TaskKind,
        name: Option<Rc<str>>,
        at: SourceLocation,
    ) -> (TaskKey, Rc<super::JoinSlot<F::Output>>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let slot = Rc::new(super::JoinSlot::new());
        let writer = Rc::clone(&slot);
        let boxed: TaskFuture = Box::pin(TaskBody::new(future, writer));
        let completion: Rc<dyn Completion> = slot.clone();
        let key = self.new_slot(kind, name, at, Some(boxed), Some(completion));
        (key, slot)
    }

    /// Registers the root future of `block_on` (polled by `block_on` itself).
    pub fn spawn_root(self: &Rc<World>, at: SourceLocation) -> TaskKey {
        thread_local! {
            static MAIN: Rc<str> = Rc::from(crate::trace::ROOT_NAME);
        }
        let main = MAIN.with(Rc::clone);
        self.new_slot(TaskKind::Root, Some(main), at, None, None)
    }
}
