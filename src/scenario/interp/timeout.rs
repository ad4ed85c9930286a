//! `timeout` scopes: the library's own `time::timeout` around a body it
//! does not own, then a cooperative cancel and asyncio's uncancel count.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::LocalBoxFuture;

use super::step::{exec_block, Exec, Raise};
use super::task::Ctx;
use crate::scenario::model::Block;
use crate::time;

/// Polls a future that someone else owns, so that the library's `timeout`
/// can wrap the body (and register its scope) without owning it: on expiry
/// the body is not dropped but cancelled cooperatively.
struct Borrowed {
    body: Rc<RefCell<LocalBoxFuture<'static, Exec>>>,
}

impl Future for Borrowed {
    type Output = Exec;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Exec> {
        self.body.borrow_mut().as_mut().poll(cx)
    }
}

pub(super) async fn run_timeout(ctx: &Rc<Ctx>, duration: Duration, body: Block) -> Exec {
    let Some(cell) = ctx.cell.clone() else {
        return Err(Raise::Error(
            "timeout inside shield is not supported".to_string(),
        ));
    };
    let cancelling_at_enter = cell.requests.get();
    let body = Rc::new(RefCell::new(exec_block(Rc::clone(ctx), body)));
    let nested = Borrowed {
        body: Rc::clone(&body),
    };
    let mut scope = std::pin::pin!(time::timeout(duration, nested));
    let result = match scope.as_mut().await {
        Ok(result) => return result,
        Err(_elapsed) => {
            // asyncio.timeout: the deadline cancels the task, the body
            // handles that request like any other.
            cell.cancel_by_timeout(scope.scope(), scope.at());
            Borrowed { body }.await
        }
    };
    let outstanding = cell.uncancel();
    match result {
        Err(Raise::Cancelled(cancelled)) if outstanding <= cancelling_at_enter => {
            Err(Raise::Timeout(Some(cancelled)))
        }
        other => other,
    }
}
