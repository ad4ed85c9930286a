//! Variables and what reads them: the value of a text, the truth of a
//! condition, the tasks a name stands for.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::exc::{Exc, Raise};
use super::task::TaskCell;
use super::task_run::Ctx;
use crate::scenario::model::{Cond, Text, TextPart};

/// A variable's value.
#[derive(Clone)]
pub(super) enum Value {
    /// A string (every value a step makes).
    Str(String),
    /// A set of tasks (`wait`'s `done=` and `pending=`), in the order they
    /// were spawned.
    Tasks(Vec<Rc<TaskCell>>),
}

impl Value {
    /// How a text shows it: a string as it is, a set of tasks as their
    /// names, sorted, joined by `, `.
    fn show(&self) -> String {
        match self {
            Value::Str(text) => text.clone(),
            Value::Tasks(tasks) => {
                let mut names: Vec<&str> = tasks.iter().map(|task| task.name.as_str()).collect();
                names.sort_unstable();
                names.join(", ")
            }
        }
    }
}

/// A task's variables (shared with the bodies of its shields, which are
/// closures in the Python program).
pub(super) type Vars = Rc<RefCell<BTreeMap<String, Value>>>;

impl Ctx {
    /// The value of `text` here; an unset variable reads `None`, as
    /// Python's `f"{x}"` of a variable still `None`.
    pub(super) fn text(&self, text: &Text) -> String {
        let vars = self.vars.borrow();
        let mut out = String::new();
        for part in &text.parts {
            match part {
                TextPart::Literal(literal) => out.push_str(literal),
                TextPart::Var(name) => match vars.get(name) {
                    Some(value) => out.push_str(&value.show()),
                    None => out.push_str("None"),
                },
            }
        }
        out
    }

    pub(super) fn set(&self, var: &str, value: Value) {
        self.vars.borrow_mut().insert(var.to_string(), value);
    }

    pub(super) fn set_text(&self, var: Option<&String>, value: String) {
        if let Some(var) = var {
            self.set(var, Value::Str(value));
        }
    }

    /// The tasks `name` stands for: the tasks of a set variable, or the
    /// task instance of that name.
    pub(super) fn tasks(&self, keyword: &str, name: &str) -> Result<Vec<Rc<TaskCell>>, Raise> {
        if let Some(Value::Tasks(tasks)) = self.vars.borrow().get(name) {
            return Ok(tasks.clone());
        }
        self.task(keyword, name).map(|task| vec![task])
    }

    /// The task instance called `name`.
    pub(super) fn task(&self, keyword: &str, name: &str) -> Result<Rc<TaskCell>, Raise> {
        self.shared
            .cell(name)
            .ok_or_else(|| Raise::Error(Exc::runtime(format!("{keyword} {name}: never spawned"))))
    }

    /// Whether `cond` holds now.
    pub(super) fn holds(&self, cond: &Cond) -> Result<bool, Raise> {
        Ok(match cond {
            Cond::Done(task) => self.task("if done", task)?.is_done(),
            Cond::Cancelled(task) => self.task("if cancelled", task)?.is_cancelled(),
            Cond::Cancelling => self.cell.cancelling() > 0,
            Cond::IsSet(event) => self.shared.primitives.event(event).is_set(),
            Cond::Empty(queue) => self.shared.primitives.queue(queue).is_empty(),
            Cond::Equal(a, b) => self.text(a) == self.text(b),
            Cond::Not(inner) => !self.holds(inner)?,
        })
    }
}
