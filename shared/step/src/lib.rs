//! Sans-IO flows, the way rustls does no I/O itself: a flow is plain async Rust whose only
//! await points are [`need`]s — a subrequest, a WebCrypto operation, the request body — and a
//! [`Machine`] runs it synchronously. Each call to [`Machine::resume`] polls the flow until it
//! needs something ([`Progress::Needs`]), has to wait for another flow ([`Progress::Waiting`]),
//! or is done ([`Progress::Done`]); the caller performs the need however it likes (a JavaScript
//! driver with the runtime's `fetch`; a unit test with a scripted answer) and hands the outcome
//! back with [`Machine::give`]. No promise of the runtime is ever awaited from Rust, and the same
//! flow runs natively under `cargo test` without a stack.
//!
//! Flows of one isolate may share state (a JWKS cache) and wait for each other through it with
//! ordinary async locks: a flow that is woken by another is listed by [`take_woken`], so the
//! driver knows to resume it.
#![forbid(unsafe_code)]

mod machine;
mod need;

pub use machine::{Machine, MachineId, Progress, take_woken};
pub use need::{Fetched, Got, Need, Subrequest, need};

#[cfg(test)]
mod tests;
