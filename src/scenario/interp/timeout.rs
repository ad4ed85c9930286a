//! `timeout` steps (asyncio.timeout): the library's own `time::timeout`
//! around a body it does not own, with asyncio's order on a tie, then a
//! cooperative cancel and asyncio's uncancel count.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::LocalBoxFuture;

use super::exc::{Exc, Raise};
use super::located::{current_step, enter_step, note, woke_itself, Note};
use super::step::{exec_block, Exec};
use super::task_run::Ctx;
use crate::scenario::model::Block;
use crate::time::{self, Instant};

/// The body of a scope and, once it has ended, how.
struct Body {
    future: LocalBoxFuture<'static, Exec>,
    ended: Option<Exec>,
}

/// Polls a body that someone else owns, so that the library's `timeout`
/// can wrap it (and register its scope) without owning it: on expiry the
/// body is not dropped but cancelled cooperatively. A body polled again
/// after it ended is not run again.
struct Borrowed {
    body: Rc<RefCell<Body>>,
}

impl Future for Borrowed {
    type Output = Exec;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Exec> {
        let mut body = self.body.borrow_mut();
        if let Some(ended) = body.ended.take() {
            return Poll::Ready(ended);
        }
        body.future.as_mut().poll(cx)
    }
}

pub(super) async fn run_timeout(ctx: &Rc<Ctx>, duration: Duration, body: Block) -> Exec {
    let cell = Rc::clone(&ctx.cell);
    let own = current_step();
    let _watched = ctx.shared.deadlines.watch(duration);
    let cancelling_at_enter = cell.cancelling();
    let body = Rc::new(RefCell::new(Body {
        future: exec_block(Rc::clone(ctx), body),
        ended: None,
    }));
    let nested = Borrowed {
        body: Rc::clone(&body),
    };
    let mut scope = std::pin::pin!(time::timeout(duration, nested).expiry_first());
    // A body that wakes itself before the deadline (a `yield`) runs that
    // step before the deadline's callback, as in asyncio.
    let deadline = scope.deadline();
    let expired = poll_fn(|cx| {
        let polled = scope.as_mut().poll(cx);
        if polled.is_pending() && woke_itself() && Instant::now() < deadline {
            scope.as_mut().inner_first_once();
        }
        polled
    })
    .await;
    let result = match expired {
        Ok(result) => return result,
        Err(_elapsed) => {
            // asyncio.timeout: the deadline cancels the task, the body
            // handles that request like any other.
            let inner = enter_step(own);
            if let Some(scope) = scope.scope() {
                note(&ctx.shared.record, Note::Timeout { scope });
            }
            cell.cancel_by_timeout(scope.scope(), scope.at());
            enter_step(inner);
            Borrowed { body }.await
        }
    };
    let outstanding = cell.uncancel();
    match result {
        Err(Raise::Cancelled(cancelled)) if outstanding <= cancelling_at_enter => {
            ctx.absorb(cancelled.token);
            Err(Raise::Error(Exc::timeout()))
        }
        other => other,
    }
}
