//! The tenant's answer body, relayed chunk by chunk with a deadline per chunk: the header
//! timeout cannot cover a tenant that stops sending half-way, and without this the client would
//! wait on the open stream for as long as the tenant keeps the connection.

use std::time::Duration;

use edge_worker::within;
use futures_util::stream::{Stream, StreamExt, unfold};
use worker::ByteStream;

/// `body`'s chunks as they come; when none arrives for `idle`, the stream ends in an error (the
/// client's read of the body fails, it does not look complete) and the tenant's body is
/// cancelled.
pub fn ended_when_idle(
    body: ByteStream,
    idle: Duration,
) -> impl Stream<Item = worker::Result<Vec<u8>>> {
    unfold(Some(body), move |body| async move {
        let mut body = body?;
        match within(body.next(), idle).await {
            Some(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
            Some(Some(Err(e))) => Some((Err(e), None)),
            Some(None) => None,
            None => {
                let stalled = format!("the tenant sent nothing for {} ms", idle.as_millis());
                worker::console_error!("tenant-proxy: {stalled}; relay ended");
                // Dropping `body` cancels the tenant's stream.
                Some((Err(worker::Error::RustError(stalled)), None))
            }
        }
    })
}
