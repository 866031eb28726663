//! Private channels, authorized as Supabase Realtime authorizes them (`Tenants.Authorization`):
//! by the project's row-level security on `realtime.messages`, evaluated as the channel's role
//! with its claims and `realtime.topic` set. Reading (joining, receiving presence) is a SELECT
//! of rows the check itself inserts; writing (sending broadcast, tracking presence) is an
//! INSERT as the role. Both run in transactions that are rolled back, so nothing stays.

use tokio_postgres::error::SqlState;

use super::token::Credentials;
use crate::project::Project;

/// What a channel's claims may do on its topic (Realtime's `Policies`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policies {
    pub broadcast_read: bool,
    pub broadcast_write: bool,
    pub presence_read: bool,
    pub presence_write: bool,
}

/// Why the policies could not be evaluated: a policy that fails, or the database.
#[derive(Debug)]
pub struct CheckFailed(String);

impl CheckFailed {
    /// The `reason` of the refused join (Realtime's log code and the error it got).
    pub fn join_reason(&self) -> String {
        format!("RlsPolicyError: {}", self.0)
    }
}

impl From<tokio_postgres::Error> for CheckFailed {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Self(db.message().to_owned()),
            None => Self("Unable to check the channel's policies".into()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for CheckFailed {
    fn from(_: deadpool_postgres::PoolError) -> Self {
        Self("Unable to connect to the project database".into())
    }
}

/// The settings Realtime's `set_conn_config` makes for a check, with the legacy
/// `request.jwt.claim.*` ones PostgREST sets (which `auth.uid()` reads first).
fn settings(topic: &str, credentials: &Credentials) -> Vec<(String, String)> {
    let mut all = vec![
        ("role".to_owned(), credentials.role.clone()),
        ("realtime.topic".to_owned(), topic.to_owned()),
        (
            "request.jwt.claims".to_owned(),
            credentials.claims.to_string(),
        ),
        ("request.headers".to_owned(), "{}".to_owned()),
    ];
    all.extend(crate::rest::legacy_claim_settings(&credentials.claims));
    all
}

/// Evaluates read and write policies of `topic` (the channel name, without `realtime:`) for
/// `credentials`, on a connection as `postgres` (which inserts the rows the read check selects
/// and then becomes the channel's role, as Realtime's own database user does).
pub async fn policies(
    project: &Project,
    topic: &str,
    credentials: &Credentials,
) -> Result<Policies, CheckFailed> {
    let settings = settings(topic, credentials);
    let mut client = project.pools.admin.get().await?;

    let tx = client.transaction().await?;
    let rows = tx
        .query(
            "INSERT INTO realtime.messages (topic, extension) \
             VALUES ($1, 'broadcast'), ($1, 'presence') RETURNING id, extension",
            &[&topic],
        )
        .await?;
    let ids: Vec<(uuid::Uuid, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    crate::rest::set_local(&tx, &settings).await?;
    let all_ids: Vec<uuid::Uuid> = ids.iter().map(|(id, _)| *id).collect();
    let visible: Vec<uuid::Uuid> = tx
        .query(
            "SELECT id FROM realtime.messages WHERE topic = $1 AND id = ANY($2)",
            &[&topic, &all_ids],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.rollback().await?;
    let readable = |extension: &str| {
        ids.iter()
            .any(|(id, ext)| ext == extension && visible.contains(id))
    };

    let mut tx = client.transaction().await?;
    crate::rest::set_local(&tx, &settings).await?;
    let mut writable = [false; 2];
    for (i, extension) in ["broadcast", "presence"].iter().enumerate() {
        let attempt = tx.savepoint("write_check").await?;
        writable[i] = match attempt
            .execute(
                "INSERT INTO realtime.messages (topic, extension) VALUES ($1, $2)",
                &[&topic, extension],
            )
            .await
        {
            Ok(_) => true,
            Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => false,
            Err(e) => return Err(e.into()),
        };
        attempt.rollback().await?;
    }
    tx.rollback().await?;
    Ok(Policies {
        broadcast_read: readable("broadcast"),
        broadcast_write: writable[0],
        presence_read: readable("presence"),
        presence_write: writable[1],
    })
}

/// Public channels are open to anyone holding a valid token.
pub const PUBLIC: Policies = Policies {
    broadcast_read: true,
    broadcast_write: true,
    presence_read: true,
    presence_write: true,
};
