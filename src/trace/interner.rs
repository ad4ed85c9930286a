//! The strings a trace's events refer to: task names and messages (panic
//! messages, resource names).
//!
//! Each distinct text is kept once: a million tasks called `worker`, or a
//! resource taken a million times, cost one string. A capped trace also
//! forgets the names of ended tasks that none of its kept events mentions,
//! so that a long run with a small cap stays small.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use super::Event;
use crate::vocab::TaskId;

/// A fixed hasher: no per-map random keys to draw (a sweep makes a trace
/// per run), and the texts are the program's own.
type Fixed = BuildHasherDefault<std::collections::hash_map::DefaultHasher>;

/// A capped trace forgets the names of ended tasks no kept event mentions
/// once this many (or the cap, if larger) have ended since it last did.
const NAMES_PRUNED_AFTER: usize = 1024;

#[derive(Clone, Debug, Default)]
pub(super) struct Interner {
    /// Task names by task id, in id order. Tasks are named as they are
    /// spawned, so a name is almost always appended (a map paid a search
    /// and a node insert per named spawn: a third of a simulated
    /// `tokio::spawn`, whose tasks are all named by their site).
    names: Vec<(TaskId, Arc<str>)>,
    /// The last name given, so a loop spawning at one site looks nothing up.
    last_name: Option<Arc<str>>,
    /// Every distinct name in `names`, once.
    name_pool: HashSet<Arc<str>, Fixed>,
    /// A capped trace's named tasks that have ended, not yet forgotten.
    ended_named: Vec<TaskId>,
    messages: Vec<Arc<str>>,
    message_index: HashMap<Arc<str>, u32, Fixed>,
}

impl Interner {
    pub fn set_name(&mut self, task: TaskId, name: &str) {
        let name = match &self.last_name {
            Some(last) if **last == *name => Arc::clone(last),
            _ => {
                let pooled = match self.name_pool.get(name) {
                    Some(known) => Arc::clone(known),
                    None => {
                        let new: Arc<str> = Arc::from(name);
                        self.name_pool.insert(Arc::clone(&new));
                        new
                    }
                };
                self.last_name = Some(Arc::clone(&pooled));
                pooled
            }
        };
        match self.names.last() {
            Some(&(last, _)) if last >= task => match self.position(task) {
                Ok(index) => self.names[index].1 = name,
                Err(index) => self.names.insert(index, (task, name)),
            },
            _ => self.names.push((task, name)),
        }
    }

    fn position(&self, task: TaskId) -> Result<usize, usize> {
        self.names.binary_search_by_key(&task, |&(id, _)| id)
    }

    pub fn name(&self, task: TaskId) -> Option<&str> {
        let index = self.position(task).ok()?;
        Some(&*self.names[index].1)
    }

    /// A named `task` of a trace capped at `cap` events ended; every so
    /// often, the names of ended tasks that none of `kept` mentions go.
    pub fn task_ended<'a>(
        &mut self,
        task: TaskId,
        cap: usize,
        kept: impl FnOnce() -> Box<dyn Iterator<Item = Event> + 'a>,
    ) {
        if self.position(task).is_err() {
            return;
        }
        self.ended_named.push(task);
        if self.ended_named.len() > cap.max(NAMES_PRUNED_AFTER) {
            let mentioned: HashSet<TaskId> =
                kept().flat_map(|event| event.tasks()).flatten().collect();
            self.forget_names_except(&mentioned);
        }
    }

    /// Forgets the names of the ended tasks not in `mentioned`.
    fn forget_names_except(&mut self, mentioned: &HashSet<TaskId>) {
        let mut forgotten = HashSet::new();
        for task in std::mem::take(&mut self.ended_named) {
            if mentioned.contains(&task) {
                self.ended_named.push(task);
            } else {
                forgotten.insert(task);
            }
        }
        // Its reference would keep a forgotten name in the pool.
        self.last_name = None;
        let mut dropped = Vec::new();
        self.names.retain(|(task, name)| {
            let forget = forgotten.contains(task);
            if forget {
                dropped.push(Arc::clone(name));
            }
            !forget
        });
        for name in dropped {
            // The pool's reference and this one: no other task has it.
            if Arc::strong_count(&name) == 2 {
                self.name_pool.remove(&name);
            }
        }
    }

    /// The index of `message` (the same text, the same index).
    pub fn add_message(&mut self, message: String) -> u32 {
        if let Some(&index) = self.message_index.get(message.as_str()) {
            return index;
        }
        let index = self.messages.len() as u32;
        let message: Arc<str> = Arc::from(message);
        self.messages.push(Arc::clone(&message));
        self.message_index.insert(message, index);
        index
    }

    pub fn message(&self, index: u32) -> Option<&str> {
        self.messages.get(index as usize).map(|message| &**message)
    }

    /// (task names, distinct names, messages) kept.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.names.len(), self.name_pool.len(), self.messages.len())
    }
}
