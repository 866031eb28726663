//! What a flow can ask its driver for, and what it gets back.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::machine::current_slot;

/// An outgoing HTTP request whose answer is read whole as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subrequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Headers and body must both have arrived within this many milliseconds; after that the
    /// driver aborts the request and answers [`Fetched::TimedOut`].
    pub timeout_ms: u32,
}

/// Something only the driver can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Send this and read its answer.
    Fetch(Subrequest),
    /// Read the request body, at most `limit` bytes.
    Body { limit: usize },
    /// Import a P-256 public key (SEC 1 uncompressed point) for ECDSA verify under the number
    /// `key`, which later [`Need::VerifyEs256`]s name.
    ImportEs256 { key: u32, point: Vec<u8> },
    /// Check an ECDSA P-256 / SHA-256 `signature` (64 bytes `r ‖ s`) of `data` with key `key`.
    VerifyEs256 {
        key: u32,
        signature: Vec<u8>,
        data: Vec<u8>,
    },
}

/// What a subrequest gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Answer {
        status: u16,
        body: String,
    },
    /// It could not be sent (or the server not reached).
    SendFailed(String),
    /// Its body could not be read.
    ReadFailed(String),
    /// No whole answer within its deadline.
    TimedOut,
}

/// The outcome of a [`Need`], handed back by the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    Fetched(Fetched),
    /// The body's bytes; `TooLarge` when it went past the limit (the driver stopped reading),
    /// `Unreadable` when the stream failed.
    Body(Vec<u8>),
    BodyTooLarge,
    BodyUnreadable,
    /// Whether the import or the signature check succeeded.
    Done(bool),
}

/// Where a pending need and its outcome meet: one per machine.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    pub(crate) asked: Option<Need>,
    pub(crate) got: Option<Got>,
}

/// Asks the driver for `what` and waits for its outcome. Only inside a flow a [`crate::Machine`]
/// runs; elsewhere it never completes.
pub fn need(what: Need) -> impl Future<Output = Got> {
    NeedFuture {
        what: Some(what),
        slot: None,
    }
}

struct NeedFuture {
    what: Option<Need>,
    slot: Option<Rc<RefCell<Slot>>>,
}

impl Future for NeedFuture {
    type Output = Got;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Got> {
        if let Some(what) = self.what.take() {
            let Some(slot) = current_slot() else {
                return Poll::Pending;
            };
            slot.borrow_mut().asked = Some(what);
            self.slot = Some(slot);
            return Poll::Pending;
        }
        match self
            .slot
            .as_ref()
            .and_then(|slot| slot.borrow_mut().got.take())
        {
            Some(got) => Poll::Ready(got),
            None => Poll::Pending,
        }
    }
}
