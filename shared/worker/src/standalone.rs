//! The entry points of a function deployed as a Worker of its own (its crate's `standalone`
//! feature), generated instead of written out in every function crate.

/// `standalone_worker!(handle)` declares the `#[event(fetch)]` entry that answers every request
/// with `handle(req, env)`; `standalone_worker!(handle, scheduled: job)` also declares the
/// `#[event(scheduled)]` entry that runs `job(&env)` on the Worker's cron triggers. Both exist
/// only when the calling crate is built with its `standalone` feature.
#[macro_export]
macro_rules! standalone_worker {
    ($handle:path) => {
        #[cfg(feature = "standalone")]
        #[worker::event(fetch)]
        async fn fetch(
            req: worker::Request,
            env: worker::Env,
            _ctx: worker::Context,
        ) -> worker::Result<worker::Response> {
            $handle(req, env).await
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
