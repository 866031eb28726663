//! The mail catcher, as the Supabase CLI runs Mailpit beside its stack, on a port of its own
//! (`--mail-port`, 54324 as the CLI's): the Workers send through a Resend-style HTTP API
//! (`POST /emails` with the project's mail key, the same transport code as in production),
//! nothing leaves the machine, and the messages are read on a web page (`/`) and through
//! Mailpit's JSON API (`/api/v1/…`), like Mailpit's, without a key: the port is bound to
//! 127.0.0.1 and answers loopback `Host`s only.

mod api;
mod pages;
mod send_api;
mod store;

use axum::Router;
use axum::routing::{get, post};

pub use store::{Address, Mailbox, Message};

use crate::project::SharedProject;

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
