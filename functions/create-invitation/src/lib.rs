//! create-invitation: an admin (by `user_profiles.role`, read in the database) invites a person
//! to claim an existing, unlinked profile with a one-time link; lists a profile's invitation
//! history; revokes a pending invitation.
//!
//! The link's token is made here and never stored: the database keeps its SHA-256 (to find the
//! invitation by) and the token sealed with the Worker's key ring (so an admin can be shown a
//! pending link again), neither of which works as a link.
#![forbid(unsafe_code)]

mod delivery;
mod handler;
mod invitation_input;
mod invitation_mail;
mod invitation_rpc_error;
mod invitation_view;

pub use invitation_input::{InvitationInput, ValidInvitation, parse_uuid};
pub use invitation_view::{InvitationRecord, InvitationView, LinkBase, token_aad_row};

use edge_worker::{FunctionSpec, IncomingRequest};
use worker::{Context, Env, web_sys};

pub const SPEC: FunctionSpec = FunctionSpec {
    name: "create-invitation",
    methods: &["GET", "POST", "DELETE"],
    extra_request_headers: &[],
    exposed_headers: &[],
};

/// The cron job that retries invitation e-mails that failed or never finished (with back-off,
/// at most 5 attempts per send); the all-in-one Worker runs it on every cron trigger.
pub async fn scheduled_email_retry(env: &Env) {
    edge_worker::run_scheduled(env, "invitation e-mail retry", |config| {
        delivery::retry_due_deliveries(env, config)
    })
    .await;
}

/// Answers one request to `/functions/v1/create-invitation`.
pub async fn handle(
    req: IncomingRequest,
    env: Env,
    ctx: Context,
) -> worker::Result<web_sys::Response> {
    edge_worker::serve(req, env, ctx, &SPEC, handler::route).await
}

edge_worker::standalone_worker!(handle, scheduled: scheduled_email_retry);
