//! A difference between a run and what its scheduler expected.

use std::fmt;

/// A replayed run asked a question the recording did not answer that way
/// (or a scheduler of one's own cannot answer: [`Divergence::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Divergence {
    /// Index of the decision at which the runs parted.
    pub decision: usize,
    /// What the recording holds there.
    pub expected: String,
    /// What the run asked.
    pub found: String,
    /// Found by the determinism check: `expected` is what the first of two
    /// runs of one plan was offered, `found` what the second was.
    pub(super) between_runs: bool,
}

impl Divergence {
    /// At the `decision`-th decision, the recording (or the scheduler's
    /// plan) holds `expected` and the run asked for `found`.
    ///
    /// ```
    /// use cancelsim::schedule::Divergence;
    ///
    /// let divergence = Divergence::new(4, "a choice among 2 ready tasks", "a random number");
    /// assert!(divergence.to_string().starts_with("decision 4: the recording holds a choice"));
    /// ```
    pub fn new(decision: usize, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Divergence {
            decision,
            expected: expected.into(),
            found: found.into(),
            between_runs: false,
        }
    }

    /// The determinism check's difference: at the `decision`-th decision
    /// the first run `first` (`could run [#1, #2] (step 3, at 0.000s)`),
    /// this run `this`.
    pub(crate) fn between_runs(
        decision: usize,
        first: impl Into<String>,
        this: impl Into<String>,
    ) -> Self {
        Divergence {
            between_runs: true,
            ..Divergence::new(decision, first, this)
        }
    }

    /// Found by the determinism check (two runs of one plan), not by a
    /// replay.
    pub fn is_between_runs(&self) -> bool {
        self.between_runs
    }
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.between_runs {
            return write!(
                f,
                "at decision {} the first run {} and this run {}",
                self.decision, self.expected, self.found
            );
        }
        write!(
            f,
            "decision {}: the recording holds {}, the run asked for {} \
             (is the code under test fully deterministic? wall clock, threads, \
             HashMap order or an unseeded RNG would do this; so would replaying \
             other code, or other `block_on` calls, than were recorded)",
            self.decision, self.expected, self.found
        )
    }
}
