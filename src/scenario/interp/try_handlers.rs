//! `try` steps, with Python's rules: the first handler whose types match
//! runs (`except`, `on-cancel` = `except CancelledError`, `on-error` =
//! `except Exception`); `except*` handlers split an `ExceptionGroup`;
//! `else` runs when the body raised nothing; a handler that raises replaces
//! the exception; `finally` runs however the rest ended, and its own raise
//! or return replaces the outcome.

use std::rc::Rc;

use super::exc::{Exc, Raise};
use super::located::current_step;
use super::step::{exec_block, Exec, Flow};
use super::task_run::{Ctx, Handling};
use super::values::Value;
use crate::scenario::exceptions::is_instance;
use crate::scenario::model::{Block, Handler, Resolution};

pub(super) async fn run_try(
    ctx: &Rc<Ctx>,
    body: &Block,
    handlers: &[Handler],
    otherwise: Option<&Block>,
    finally: Option<&Block>,
) -> Exec {
    let own = current_step();
    let result = exec_block(Rc::clone(ctx), body.clone()).await;
    let cleanup = |block: &'static str| own.map(|step| (step, block));
    let result = match result {
        Err(raise) if handlers.first().is_some_and(|h| h.star) => {
            ctx.cleanups.borrow_mut().push(cleanup("except*"));
            let result = run_star(ctx, raise, handlers).await;
            ctx.cleanups.borrow_mut().pop();
            result
        }
        Err(raise) => match handlers.iter().find(|h| raise.is_caught_by(&h.kinds)) {
            Some(handler) => {
                ctx.cleanups.borrow_mut().push(cleanup(handler.keyword));
                let result = run_handler(ctx, handler, raise).await;
                ctx.cleanups.borrow_mut().pop();
                result
            }
            None => Err(raise),
        },
        Ok(Flow::Next) => match otherwise {
            Some(block) => exec_block(Rc::clone(ctx), block.clone()).await,
            None => Ok(Flow::Next),
        },
        returned => returned,
    };
    match finally {
        None => result,
        Some(handler) => {
            ctx.cleanups.borrow_mut().push(cleanup("finally"));
            let ended = exec_block(Rc::clone(ctx), handler.clone()).await;
            ctx.cleanups.borrow_mut().pop();
            match ended {
                Ok(Flow::Next) => result,
                replaced => chain(result, replaced),
            }
        }
    }
}

/// Runs `block` handling `raise` (so that a bare `raise` re-raises it):
/// how the block ended, the exception unless re-raised, and whether a bare
/// `raise` took it.
async fn handling(ctx: &Rc<Ctx>, block: &Block, raise: Raise) -> (Exec, Option<Raise>, bool) {
    ctx.handling.borrow_mut().push(Handling {
        exc: Some(raise),
        reraised: false,
    });
    let ended = exec_block(Rc::clone(ctx), block.clone()).await;
    let frame = ctx.handling.borrow_mut().pop().expect("pushed above");
    (ended, frame.exc, frame.reraised)
}

async fn run_handler(ctx: &Rc<Ctx>, handler: &Handler, raise: Raise) -> Exec {
    if let Some(var) = &handler.bind {
        ctx.set(var, Value::Str(raise.text()));
    }
    let (ended, left, _) = handling(ctx, &handler.body, raise).await;
    match (ended, left) {
        (Ok(Flow::Next), Some(raise)) if handler.ends == Some(Resolution::Reraise) => Err(raise),
        // Handled: a cancellation dropped here is swallowed (unless an
        // `uncancel` takes it back).
        (Ok(flow), left) => {
            if let Some(Raise::Cancelled(cancelled)) = left {
                ctx.swallowed.borrow_mut().extend(cancelled.token);
            }
            Ok(flow)
        }
        (Err(new), Some(old)) => chain(Err(old), Err(new)),
        (Err(new), None) => Err(new),
    }
}

/// `except*`: each handler takes the leaves of the group its types match;
/// what they re-raise and what none matched is raised again in the
/// group's shape, with any new exception alongside (Python's rules, also
/// for an exception that is not a group).
async fn run_star(ctx: &Rc<Ctx>, raise: Raise, handlers: &[Handler]) -> Exec {
    let original = match raise {
        Raise::Error(exc) if exc.is_group() => exc,
        naked => return run_star_naked(ctx, naked, handlers).await,
    };
    let mut remaining: Vec<usize> = Vec::new();
    original.leaves(0, &|_| true, &mut remaining);
    let mut kept: Vec<usize> = Vec::new();
    let mut raised: Vec<Exc> = Vec::new();
    for handler in handlers {
        let mut matched: Vec<usize> = Vec::new();
        original.leaves(
            0,
            &|leaf| handler.kinds.iter().any(|k| is_instance(&leaf.kind, k)),
            &mut matched,
        );
        matched.retain(|leaf| remaining.contains(leaf));
        if matched.is_empty() {
            continue;
        }
        remaining.retain(|leaf| !matched.contains(leaf));
        let part = original
            .subgroup(0, &|index, _| matched.contains(&index))
            .expect("some leaf matched");
        if let Some(var) = &handler.bind {
            ctx.set(var, Value::Str(part.text()));
        }
        let (ended, _, reraised) = handling(ctx, &handler.body, Raise::Error(part)).await;
        match ended {
            Ok(_) => {}
            Err(_) if reraised => kept.extend(matched),
            Err(Raise::Error(exc)) => raised.push(exc),
            Err(Raise::Cancelled(cancelled)) => {
                ctx.absorb(cancelled.token);
                raised.push(Exc::new(
                    "CancelledError",
                    cancelled.message.unwrap_or_default(),
                ));
            }
        }
    }
    kept.extend(remaining);
    let rest = original.subgroup(0, &|index, _| kept.contains(&index));
    if raised.is_empty() {
        return rest.map_or(Ok(Flow::Next), |rest| Err(Raise::Error(rest)));
    }
    raised.extend(rest);
    Err(Raise::Error(Exc::group("", raised)))
}

/// `except*` for an exception that is not a group: the first handler that
/// matches sees it wrapped in a group; a bare `raise` raises that group.
async fn run_star_naked(ctx: &Rc<Ctx>, raise: Raise, handlers: &[Handler]) -> Exec {
    let Some(handler) = handlers.iter().find(|h| raise.is_caught_by(&h.kinds)) else {
        return Err(raise);
    };
    let (leaf, token) = match raise {
        Raise::Error(exc) => (exc, None),
        Raise::Cancelled(cancelled) => (
            Exc::new("CancelledError", cancelled.message.unwrap_or_default()),
            cancelled.token,
        ),
    };
    ctx.absorb(token);
    let wrapped = Exc::group("", vec![leaf]);
    if let Some(var) = &handler.bind {
        ctx.set(var, Value::Str(wrapped.text()));
    }
    let (ended, _, reraised) = handling(ctx, &handler.body, Raise::Error(wrapped.clone())).await;
    match ended {
        Ok(_) => Ok(Flow::Next),
        Err(_) if reraised => Err(Raise::Error(wrapped)),
        Err(new) => Err(new),
    }
}

/// A bare `raise`: the exception being handled.
pub(super) fn reraise(ctx: &Ctx) -> Raise {
    let mut handling = ctx.handling.borrow_mut();
    match handling.last_mut() {
        Some(frame) => {
            frame.reraised = true;
            frame
                .exc
                .take()
                .unwrap_or_else(|| Raise::Error(Exc::runtime("No active exception to reraise")))
        }
        None => Raise::Error(Exc::runtime("No active exception to reraise")),
    }
}

/// `new` replaces `old` (raised in a handler or `finally`; Python keeps
/// `old` as its `__context__`). A cancellation replaced by a cancellation
/// is still the same cancellation reaching the task's end: the delivered
/// request goes on with the new one.
pub(super) fn chain(old: Exec, new: Exec) -> Exec {
    match (old, new) {
        (Err(Raise::Cancelled(old)), Err(Raise::Cancelled(mut new))) if new.token.is_none() => {
            new.token = old.token;
            Err(Raise::Cancelled(new))
        }
        (_, new) => new,
    }
}
