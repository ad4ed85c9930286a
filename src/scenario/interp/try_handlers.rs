//! `try` steps: the body, then its `on-cancel` (`except CancelledError`),
//! `on-error` (`except Exception`) and `finally` handlers, with Python's
//! rules: a handler that raises replaces the exception, and `finally` runs
//! however the rest ended (its own raise or return replaces the outcome).

use std::rc::Rc;

use super::exc::Raise;
use super::step::{exec_block, Exec, Flow};
use super::task::Ctx;
use crate::scenario::model::{Block, Resolution};

pub(super) async fn run_try(
    ctx: &Rc<Ctx>,
    body: &Block,
    on_cancel: Option<&(Block, Resolution)>,
    on_error: Option<&Block>,
    finally: Option<&Block>,
) -> Exec {
    let result = exec_block(Rc::clone(ctx), body.clone()).await;
    let result = match (result, on_cancel, on_error) {
        (Err(Raise::Cancelled(cancelled)), Some((handler, resolution)), _) => {
            match exec_block(Rc::clone(ctx), handler.clone()).await {
                Ok(Flow::Next) => match resolution {
                    Resolution::Reraise => Err(Raise::Cancelled(cancelled)),
                    Resolution::Swallow => {
                        drop(cancelled);
                        Ok(Flow::Next)
                    }
                },
                other => chain(Err(Raise::Cancelled(cancelled)), other),
            }
        }
        (Err(Raise::Error(_)), _, Some(handler)) => {
            exec_block(Rc::clone(ctx), handler.clone()).await
        }
        (other, _, _) => other,
    };
    match finally {
        None => result,
        Some(handler) => match exec_block(Rc::clone(ctx), handler.clone()).await {
            Ok(Flow::Next) => result,
            replaced => chain(result, replaced),
        },
    }
}

/// `new` replaces `old` (raised in a handler or `finally`; Python keeps
/// `old` as its `__context__`). A cancellation replaced by a cancellation
/// is still the same cancellation reaching the task's end: the delivered
/// request goes on with the new one.
fn chain(old: Exec, new: Exec) -> Exec {
    match (old, new) {
        (Err(Raise::Cancelled(old)), Err(Raise::Cancelled(mut new))) if new.token.is_none() => {
            new.token = old.token;
            Err(Raise::Cancelled(new))
        }
        (_, new) => new,
    }
}
