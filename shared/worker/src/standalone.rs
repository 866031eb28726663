//! The entry points of a function deployed as a Worker of its own (its crate's `standalone`
//! feature), generated instead of written out in every function crate.

/// `standalone_worker!(handle)` declares the `#[event(fetch)]` entry that answers every request
/// with `handle(req, env, ctx)`, `req` an [`IncomingRequest`](crate::IncomingRequest) made from the
/// runtime's request as it comes (not the worker crate's `Request`, which reads `request.cf`
/// and more for every request); `standalone_worker!(handle, scheduled: job)` also declares the
/// `#[event(scheduled)]` entry that runs `job(&env)` on the Worker's cron triggers. Both exist
/// only when the calling crate is built with its `standalone` feature.
#[macro_export]
macro_rules! standalone_worker {
    ($handle:path) => {
        #[cfg(feature = "standalone")]
        #[worker::event(fetch)]
        async fn fetch(
            req: worker::web_sys::Request,
            env: worker::Env,
            ctx: worker::Context,
        ) -> worker::Result<worker::web_sys::Response> {
            $handle($crate::IncomingRequest::new(req), env, ctx).await
        }
    };
    ($handle:path, scheduled: $job:path) => {
        $crate::standalone_worker!($handle);

        #[cfg(feature = "standalone")]
        #[worker::event(scheduled)]
        async fn scheduled(
            _event: worker::ScheduledEvent,
            env: worker::Env,
            _ctx: worker::ScheduleContext,
        ) {
            $job(&env).await;
        }
    };
}
