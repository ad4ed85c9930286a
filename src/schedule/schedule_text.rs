//! The one-line text form of a [`Schedule`]: `t1/3 m0/2 r42 |`.
//!
//! `tC/N` is a task choice (index `C` of `N` ready), `mC/N` a timer choice,
//! `cC/N` a choice among `N` alternatives of the code under test, `rV` a
//! random number, `|` the end of a root future (one `block_on`) after
//! the decisions before it. The form round-trips through
//! `Display`/`FromStr`; text without any `|` reads as one root that ends
//! after its last decision.

use std::fmt;
use std::str::FromStr;

use super::{Decision, Schedule};

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut separate = |f: &mut fmt::Formatter<'_>| {
            if !std::mem::take(&mut first) {
                f.write_str(" ")?;
            }
            Ok(())
        };
        let mut root_ends = self.root_ends().iter().peekable();
        for (index, decision) in self.iter().enumerate() {
            while root_ends.next_if(|&&end| end <= index).is_some() {
                separate(f)?;
                f.write_str("|")?;
            }
            separate(f)?;
            match decision {
                Decision::Task { options, chosen } => write!(f, "t{chosen}/{options}")?,
                Decision::Timer { options, chosen } => write!(f, "m{chosen}/{options}")?,
                Decision::Random(value) => write!(f, "r{value}")?,
                Decision::Choice { options, chosen } => write!(f, "c{chosen}/{options}")?,
            }
        }
        for _ in root_ends {
            separate(f)?;
            f.write_str("|")?;
        }
        Ok(())
    }
}

/// A schedule's text could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseScheduleError {
    /// Which whitespace-separated token (0-based).
    pub token: usize,
    /// The token itself.
    pub text: String,
}

impl fmt::Display for ParseScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "schedule token {} `{}` is not a decision; expected `tC/N` (task), `mC/N` (timer), \
             `cC/N` (alternative) or `rV` (random), with C < N, or `|` (the end of a root future)",
            self.token, self.text
        )
    }
}

impl std::error::Error for ParseScheduleError {}

impl FromStr for Schedule {
    type Err = ParseScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut schedule = Schedule::new();
        for (token, word) in text.split_whitespace().enumerate() {
            let error = || ParseScheduleError {
                token,
                text: word.to_string(),
            };
            if word == "|" {
                schedule.push_root_end();
                continue;
            }
            let (tag, rest) =
                word.split_at(word.char_indices().nth(1).map_or(word.len(), |(i, _)| i));
            let choice = || -> Result<(u32, u32), ParseScheduleError> {
                let (chosen, options) = rest.split_once('/').ok_or_else(error)?;
                let chosen: u32 = chosen.parse().map_err(|_| error())?;
                let options: u32 = options.parse().map_err(|_| error())?;
                if chosen >= options {
                    return Err(error());
                }
                Ok((chosen, options))
            };
            schedule.push(match tag {
                "t" => {
                    let (chosen, options) = choice()?;
                    Decision::Task { options, chosen }
                }
                "m" => {
                    let (chosen, options) = choice()?;
                    Decision::Timer { options, chosen }
                }
                "c" => {
                    let (chosen, options) = choice()?;
                    Decision::Choice { options, chosen }
                }
                "r" => Decision::Random(rest.parse().map_err(|_| error())?),
                _ => return Err(error()),
            });
        }
        Ok(schedule)
    }
}
