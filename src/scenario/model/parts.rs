//! The parts of steps: interpolated text, conditions, exception handlers,
//! `wait`'s return condition, and declared primitives.

use std::fmt;

use miette::SourceSpan;

use super::{Block, Resolution};

/// A string with `{variable}` references (`{{` and `}}` are braces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    /// Its pieces, in order.
    pub parts: Vec<TextPart>,
}

/// A piece of a [`Text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextPart {
    /// Written as is.
    Literal(String),
    /// The value of a variable.
    Var(String),
}

impl Text {
    /// A text with no variable in it.
    pub fn literal(text: &str) -> Self {
        Text {
            parts: vec![TextPart::Literal(text.to_string())],
        }
    }

    /// Reads `{name}` references; `None` for an unclosed or empty `{`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if c.is_alphanumeric() || c == '_' || c == '-' => name.push(c),
                            Some(c) => {
                                return Err(format!(
                                    "`{c}` in `{{{name}…}}`: a variable name has letters, digits, `_` and `-`"
                                ))
                            }
                            None => return Err(format!("`{{{name}` is not closed with `}}`")),
                        }
                    }
                    if name.is_empty() {
                        return Err("`{}` names no variable (write `{{` for a brace)".to_string());
                    }
                    if !literal.is_empty() {
                        parts.push(TextPart::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(TextPart::Var(name));
                }
                '}' => return Err("a lone `}` (write `}}` for a brace)".to_string()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() || parts.is_empty() {
            parts.push(TextPart::Literal(literal));
        }
        Ok(Text { parts })
    }

    /// The variables it reads.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            TextPart::Var(name) => Some(name.as_str()),
            TextPart::Literal(_) => None,
        })
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                TextPart::Literal(text) => {
                    f.write_str(&text.replace('{', "{{").replace('}', "}}"))?
                }
                TextPart::Var(name) => write!(f, "{{{name}}}")?,
            }
        }
        Ok(())
    }
}

/// The condition of an `if`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `done TASK`: `task.done()`.
    Done(String),
    /// `cancelled TASK`: `task.cancelled()`.
    Cancelled(String),
    /// `cancelling`: `current_task().cancelling() > 0`.
    Cancelling,
    /// `is-set EVENT`: `event.is_set()`.
    IsSet(String),
    /// `empty QUEUE`: `queue.empty()`.
    Empty(String),
    /// `equal A B`: the two texts are equal.
    Equal(Text, Text),
    /// `not COND`.
    Not(Box<Cond>),
}

/// An exception handler of a `try`.
#[derive(Clone, Debug)]
pub struct Handler {
    /// The types it catches (`except A B`); empty: every exception
    /// (a bare `except`).
    pub kinds: Vec<String>,
    /// `except*`: matches inside an `ExceptionGroup`.
    pub star: bool,
    /// `as=NAME`: the variable that holds the exception's text.
    pub bind: Option<String>,
    /// Its steps.
    pub body: Block,
    /// How an `on-cancel` handler ends (`reraise` or `swallow`).
    pub ends: Option<Resolution>,
    /// The keyword it was written with (`except`, `except*`,
    /// `on-cancel`, `on-error`).
    pub keyword: &'static str,
    /// Where it is written.
    pub span: SourceSpan,
}

/// When `wait` returns (asyncio's `return_when`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    /// `FIRST_COMPLETED`.
    FirstCompleted,
    /// `FIRST_EXCEPTION`.
    FirstException,
    /// `ALL_COMPLETED` (the default).
    AllCompleted,
}

impl ReturnWhen {
    /// asyncio's name for it.
    pub fn name(self) -> &'static str {
        match self {
            ReturnWhen::FirstCompleted => "FIRST_COMPLETED",
            ReturnWhen::FirstException => "FIRST_EXCEPTION",
            ReturnWhen::AllCompleted => "ALL_COMPLETED",
        }
    }

    /// From asyncio's name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "FIRST_COMPLETED" => ReturnWhen::FirstCompleted,
            "FIRST_EXCEPTION" => ReturnWhen::FirstException,
            "ALL_COMPLETED" => ReturnWhen::AllCompleted,
            _ => return None,
        })
    }
}

/// A declared asyncio primitive.
#[derive(Clone, Debug)]
pub struct Primitive {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: PrimitiveKind,
    /// Where it is declared.
    pub span: SourceSpan,
}

/// The kinds of [`Primitive`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimitiveKind {
    /// `queue NAME [maxsize=N]`: `asyncio.Queue`.
    Queue {
        /// 0: unbounded.
        maxsize: u32,
    },
    /// `event NAME`: `asyncio.Event`.
    Event,
    /// `condition NAME`: `asyncio.Condition` (its lock is tracked).
    Condition,
    /// `semaphore NAME [value=N]`: `asyncio.Semaphore` (each permit held is
    /// tracked).
    Semaphore {
        /// The initial value.
        value: u32,
    },
}

impl PrimitiveKind {
    /// Its keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            PrimitiveKind::Queue { .. } => "queue",
            PrimitiveKind::Event => "event",
            PrimitiveKind::Condition => "condition",
            PrimitiveKind::Semaphore { .. } => "semaphore",
        }
    }
}
