//! `try` steps: the body, then its `on-cancel`, `on-error` and `finally`
//! handlers.

use std::rc::Rc;

use super::step::{exec_block, Exec, Flow, Raise};
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
                other => other,
            }
        }
        (Err(Raise::Error(_)), _, Some(handler)) => {
            exec_block(Rc::clone(ctx), handler.clone()).await
        }
        (Err(Raise::Timeout(cause)), _, Some(handler)) => {
            ctx.absorb(cause);
            exec_block(Rc::clone(ctx), handler.clone()).await
        }
        (other, _, _) => other,
    };
    match finally {
        None => result,
        Some(handler) => match exec_block(Rc::clone(ctx), handler.clone()).await {
            Ok(Flow::Next) => result,
            replaced => replaced,
        },
    }
}
