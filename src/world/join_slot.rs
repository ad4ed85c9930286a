//! Where a task's result goes: the slot its body writes and its
//! `JoinHandle` reads.

use std::cell::RefCell;
use std::task::{Context, Poll, Waker};

use super::task_table::Completion;
use crate::vocab::JoinError;

enum JoinState<T> {
    Running(Option<Waker>),
    Done(Result<T, JoinError>),
    Taken,
}

/// Where a task's result goes; shared by the task and its handle.
pub(crate) struct JoinSlot<T> {
    state: RefCell<JoinState<T>>,
}

impl<T> JoinSlot<T> {
    #[inline]
    pub fn new() -> Self {
        JoinSlot {
            state: RefCell::new(JoinState::Running(None)),
        }
    }

    #[inline]
    pub fn complete(&self, result: Result<T, JoinError>) {
        let previous = std::mem::replace(&mut *self.state.borrow_mut(), JoinState::Done(result));
        if let JoinState::Running(Some(waker)) = previous {
            waker.wake();
        }
    }

    #[inline]
    pub fn is_done(&self) -> bool {
        !matches!(*self.state.borrow(), JoinState::Running(_))
    }

    #[inline]
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut state = self.state.borrow_mut();
        match &mut *state {
            JoinState::Running(waker) => {
                match waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            JoinState::Done(_) => match std::mem::replace(&mut *state, JoinState::Taken) {
                JoinState::Done(result) => Poll::Ready(result),
                _ => unreachable!("matched Done above"),
            },
            JoinState::Taken => panic!("cancelsim: JoinHandle polled after it returned its result"),
        }
    }
}

/// Whether a task has ended, and whether its result was taken, without
/// knowing its output type.
pub(crate) trait Finished {
    fn finished(&self) -> bool;
    fn taken(&self) -> bool;
}

impl<T> Finished for JoinSlot<T> {
    fn finished(&self) -> bool {
        self.is_done()
    }

    fn taken(&self) -> bool {
        matches!(*self.state.borrow(), JoinState::Taken)
    }
}

impl<T> Completion for JoinSlot<T> {
    fn fail(&self, error: JoinError) {
        self.complete(Err(error));
    }
}
