//! Catching panics of user code without letting them unwind through the
//! harness, and without printing them twice.
//!
//! A process-wide panic hook (installed once, chaining to the previous one)
//! records the message and location of a panic raised inside [`catch`] into a
//! thread-local instead of printing it: the panic is reported through
//! `JoinError`, `SimError` and the trace instead.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) > 0 {
                let message = payload_message(info.payload());
                let text = match info.location() {
                    Some(at) => {
                        format!("{message} at {}", crate::vocab::display_path(at.file()))
                            + &format!(":{}:{}", at.line(), at.column())
                    }
                    None => message,
                };
                LAST.with(|last| *last.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

/// Is the current thread inside [`catch`] (so that unwinding stops there)?
pub(crate) fn catching() -> bool {
    CATCHING.with(Cell::get) > 0
}

/// A caught panic.
pub(crate) struct Caught {
    /// Message with the location it was raised at.
    pub message: String,
    pub payload: Box<dyn Any + Send>,
}

/// Runs `f`, turning a panic into `Err`.
#[inline(always)]
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    install_hook();
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    result.map_err(|payload| {
        let message = LAST
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| payload_message(&*payload));
        Caught { message, payload }
    })
}

/// The text of a panic payload.
pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}
