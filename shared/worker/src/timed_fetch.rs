//! Outgoing requests with a deadline: a slow or silent server must not hold the request that
//! waits for it (Workers' `fetch` has no timeout of its own).

use std::future::Future;
use std::time::Duration;

use futures_util::future::{Either, select};
use worker::{AbortController, Delay, Fetch, Request, Response};

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
pub async fn fetch_within(request: Request, timeout: Duration) -> Result<Response, FetchFailure> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    match within(fetch.send_with_signal(&signal), timeout).await {
        Some(Ok(response)) => Ok(response),
        Some(Err(e)) => Err(FetchFailure::Failed(e)),
        None => {
            controller.abort();
            Err(FetchFailure::TimedOut)
        }
    }
}

/// `future`'s output, or `None` when `timeout` passes first (the future is then dropped).
pub async fn within<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    match select(Box::pin(future), Box::pin(Delay::from(timeout))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}
