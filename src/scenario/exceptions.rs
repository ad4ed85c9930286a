//! Python's exception types, as far as scenarios name them: which type is
//! a subclass of which (so that `except OSError` catches a `TimeoutError`),
//! and where the exported program finds each one. A type Python does not
//! have is the scenario's own, a subclass of `Exception`.

/// The parents of a type Python (or asyncio) defines; `None` for a type of
/// the scenario's own.
fn parents(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "BaseException" => &[],
        "Exception" | "CancelledError" | "KeyboardInterrupt" | "SystemExit"
        | "BaseExceptionGroup" | "GeneratorExit" => &["BaseException"],
        "ExceptionGroup" => &["BaseExceptionGroup", "Exception"],
        "ArithmeticError"
        | "LookupError"
        | "OSError"
        | "RuntimeError"
        | "ValueError"
        | "TypeError"
        | "AssertionError"
        | "AttributeError"
        | "NameError"
        | "StopAsyncIteration"
        | "EOFError"
        | "BufferError"
        | "ImportError"
        | "InvalidStateError"
        | "QueueEmpty"
        | "QueueFull"
        | "IncompleteReadError"
        | "LimitOverrunError"
        | "SendfileNotAvailableError" => &["Exception"],
        "ZeroDivisionError" | "OverflowError" | "FloatingPointError" => &["ArithmeticError"],
        "KeyError" | "IndexError" => &["LookupError"],
        "ConnectionError" | "TimeoutError" | "FileNotFoundError" | "FileExistsError"
        | "PermissionError" | "IsADirectoryError" | "NotADirectoryError" | "InterruptedError"
        | "BlockingIOError" | "ProcessLookupError" => &["OSError"],
        "ConnectionResetError"
        | "ConnectionRefusedError"
        | "ConnectionAbortedError"
        | "BrokenPipeError" => &["ConnectionError"],
        "NotImplementedError" | "RecursionError" | "BrokenBarrierError" => &["RuntimeError"],
        "UnicodeError" => &["ValueError"],
        "ModuleNotFoundError" => &["ImportError"],
        _ => return None,
    })
}

/// Is an exception of type `kind` caught by `except of`?
pub(crate) fn is_instance(kind: &str, of: &str) -> bool {
    if kind == of {
        return true;
    }
    parents(kind)
        .unwrap_or(&["Exception"])
        .iter()
        .any(|parent| is_instance(parent, of))
}

/// How the exported program spells the type (asyncio's own are in
/// `asyncio`), and whether it is the scenario's own (to be defined).
pub(crate) fn python_name(kind: &str) -> (String, bool) {
    match kind {
        "CancelledError"
        | "InvalidStateError"
        | "QueueEmpty"
        | "QueueFull"
        | "BrokenBarrierError"
        | "IncompleteReadError"
        | "LimitOverrunError"
        | "SendfileNotAvailableError" => (format!("asyncio.{kind}"), false),
        _ if parents(kind).is_some() => (kind.to_string(), false),
        _ => (kind.to_string(), true),
    }
}
