//! Work a request hands to the runtime to finish after its answer (`ctx.waitUntil`), so what the
//! caller does not need to wait for (a courtesy e-mail, a record the retry job would repair, a
//! JWKS refresh while a valid key is held) costs them no round trip.

use std::future::Future;
use std::rc::Rc;

/// The request's Worker context, shared by the parts of a request that defer work.
#[derive(Clone)]
pub struct Defer(Rc<worker::Context>);

impl Defer {
    pub fn new(ctx: worker::Context) -> Self {
        Self(Rc::new(ctx))
    }

    /// Starts `work` now and lets the runtime keep the request alive until it ends, without
    /// holding the answer back. Its outcome reaches nobody: `work` logs its own failures.
    pub fn after_answer(&self, work: impl Future<Output = ()> + 'static) {
        self.0.wait_until(work);
    }
}
