//! Log lines of the flows, handed to the driver (`console.error`) at each step.

use std::cell::RefCell;

use edge_http::ApiError;

thread_local! {
    static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub fn log_error(line: String) {
    LINES.with(|lines| lines.borrow_mut().push(line));
}

/// The lines logged since the last call.
pub fn take_lines() -> Vec<String> {
    LINES.with(|lines| std::mem::take(&mut *lines.borrow_mut()))
}

/// Logs what went wrong with its context and answers the generic 500 (edge-worker's
/// `internal_error`).
pub fn internal_error(context: &str, detail: impl std::fmt::Display) -> ApiError {
    log_error(format!("internal error while {context}: {detail}"));
    ApiError::internal()
}
