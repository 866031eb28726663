//! The mail catcher, as the Supabase CLI runs Mailpit beside its stack: the Workers send
//! through a Resend-style HTTP API (`POST /mail/emails`, the same transport code as in
//! production), nothing leaves the machine, and the messages are read on a web page
//! (`/mail/`) and through Mailpit's JSON API (`/mail/api/v1/…`).

mod api;
mod pages;
mod send_api;
mod store;

use axum::Router;
use axum::routing::{get, post};

pub use pages::inbox;
pub use store::{Address, Mailbox, Message};

use crate::project::SharedProject;

/// Where it is served on the main project's port.
pub const MAIL_PREFIX: &str = "/mail";

pub fn router() -> Router<SharedProject> {
    Router::new()
        .route("/", get(pages::inbox))
        .route("/view/{id}", get(pages::view))
        .route("/emails", post(send_api::send))
        .route("/api/v1/messages", get(api::messages).delete(api::delete))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/message/{id}", get(api::message))
        .route("/api/v1/chaos", get(api::chaos).put(api::set_chaos))
}
