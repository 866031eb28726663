//! Outgoing requests with a deadline: a slow or silent server must not hold the request that
//! waits for it (Workers' `fetch` has no timeout of its own).

use std::future::Future;
use std::time::Duration;

use futures_util::future::{Either, select};
use worker::{AbortController, AbortSignal, Delay, Fetch, Request, Response};

/// Why a [`fetch_within`] produced no response.
#[derive(Debug)]
pub enum FetchFailure {
    /// No response headers within the deadline; the request was aborted.
    TimedOut,
    /// The request could not be sent or the server could not be reached.
    Failed(worker::Error),
}

impl std::fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TimedOut => f.write_str("no answer in time"),
            Self::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Sends `request` and waits at most `timeout` for the response headers; after that the fetch
/// is aborted. The body is not covered: bound its reading with [`within`].
pub(crate) async fn fetch_within(
    request: Request,
    timeout: Duration,
) -> Result<Response, FetchFailure> {
    let fetch = Fetch::Request(request);
    let sent = abort_after(timeout, |signal| async move {
        fetch.send_with_signal(&signal).await
    });
    match sent.await {
        Some(Ok(response)) => Ok(response),
        Some(Err(e)) => Err(FetchFailure::Failed(e)),
        None => Err(FetchFailure::TimedOut),
    }
}

/// Runs the future `start` makes with an abort signal for at most `timeout`; after that the
/// signal is aborted (so a fetch given it stops, freeing the connection) and the result is
/// `None`.
pub(crate) async fn abort_after<F: Future>(
    timeout: Duration,
    start: impl FnOnce(AbortSignal) -> F,
) -> Option<F::Output> {
    let controller = AbortController::default();
    let output = within(start(controller.signal()), timeout).await;
    if output.is_none() {
        controller.abort();
    }
    output
}

/// `future`'s output, or `None` when `timeout` passes first (the future is then dropped).
pub(crate) async fn within<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    match select(Box::pin(future), Box::pin(Delay::from(timeout))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}
