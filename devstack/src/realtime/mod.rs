//! `/realtime/v1`: the part of Supabase Realtime that `postgres_changes` subscribers use, over
//! the Phoenix channel protocol realtime-js speaks. Changes come from Postgres's logical
//! decoding (wal2json); who receives a row is decided by Postgres's own row-level security,
//! evaluated as each subscriber's role and JWT claims (see `dispatch`). Broadcast and Presence
//! between the members of public channels (see `rooms`), also from `POST /api/broadcast`
//! (see `api`); private channels are refused (devstack keeps no `realtime.messages`).

mod api;
mod capture;
mod dispatch;
mod hub;
mod protocol;
mod publication;
mod rooms;
mod socket;
mod subscription;
mod token;

use axum::Router;
use axum::routing::{get, post};

use crate::project::SharedProject;

/// What `/realtime/v1` keeps for one project: its subscribers.
#[derive(Default)]
pub struct RealtimeState {
    hub: hub::Hub,
    rooms: rooms::Rooms,
}

/// Starts capturing the project's changes (one logical decoding slot per project).
pub fn spawn_capture(project: SharedProject, db_port: u16) {
    capture::spawn(project, db_port);
}

pub fn router() -> Router<SharedProject> {
    Router::new()
        .route("/websocket", get(socket::upgrade))
        .route("/api/broadcast", post(api::broadcast))
        .route(
            "/api/broadcast/{topic}/events/{event}",
            post(api::broadcast_one),
        )
}
