//! A time adapter's wait for its stream's next item against its timer, as
//! a race the sweep can expire (cancelsim's `select::Race`, the one the
//! facade's `select!` is made of): the stream is branch 0, the timer
//! branch 1. While the stream waits on something cancelsim does not see
//! (a channel) and the timer is armed, the task's await point is inside
//! the race's scope, and an expiry injected there means "the next item
//! does not come before the deadline": the stream is not polled again
//! until the timer fires, at its deadline, never earlier. Nothing is
//! dropped: the stream keeps its item for the next poll, as tokio-stream's
//! adapters keep it.
//!
//! One race per wait (per item, or per chunk): each is a scope of its own,
//! named where the adapter was made; an expiry ends it.

use std::panic::Location;
use std::task::Poll;

use cancelsim_tokio::__private::Race;

const ITEM: usize = 0;
const TIMER: usize = 1;

/// The race of the current wait, made at its first poll.
#[derive(Debug)]
pub(super) struct ItemRace {
    at: &'static Location<'static>,
    race: Option<Race>,
    polls: u32,
}

impl ItemRace {
    /// Races named at `at` (the user's call of the adapter's method).
    pub(super) fn new(at: &'static Location<'static>) -> Self {
        ItemRace {
            at,
            race: None,
            polls: 0,
        }
    }

    /// Starts a poll of the current wait (a new one if the last ended);
    /// `timer_armed`: the timer will be polled if the stream is pending.
    pub(super) fn begin(&mut self, timer_armed: bool) {
        let at = self.at;
        let race = self.race.get_or_insert_with(|| Race::located(at));
        self.polls += 1;
        race.begin_poll(if timer_armed { 0 } else { 1 << TIMER });
    }

    /// Polls the stream (not while an expiry holds it); a ready stream
    /// ends the wait.
    pub(super) fn poll_item<T>(&mut self, poll: impl FnOnce() -> Poll<T>) -> Poll<T> {
        let Some(race) = self.race.as_mut() else {
            return poll();
        };
        let polled = race.poll_branch(ITEM, poll);
        if polled.is_ready() {
            race.end_poll();
            self.end();
        }
        polled
    }

    /// Polls the timer; a fired timer ends the wait.
    pub(super) fn poll_timer(&mut self, poll: impl FnOnce() -> Poll<()>) -> Poll<()> {
        let Some(race) = self.race.as_mut() else {
            return poll();
        };
        let polled = race.poll_branch(TIMER, poll);
        if polled.is_ready() {
            race.won(TIMER, 0, self.polls);
            race.end_poll();
            self.end();
        }
        polled
    }

    /// The poll ends pending.
    pub(super) fn pending(&mut self) {
        if let Some(race) = self.race.as_mut() {
            race.end_poll();
        }
    }

    fn end(&mut self) {
        self.race = None;
        self.polls = 0;
    }
}
