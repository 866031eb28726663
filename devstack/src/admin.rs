//! `devstack admin grant --email X --role admin`: an operator's command against the running
//! local stack, e.g. to make the first admin. It calls the same `public.grant_account_role`
//! a hosted project's operator runs in the SQL editor, so both paths apply one rule.

use anyhow::Context;
use tokio_postgres::NoTls;

use crate::db::pg_config;

/// The roles of `public.account_role`; anything else is refused before connecting.
pub const ROLES: [&str; 4] = ["user", "admin", "workspace_owner", "platform_super_admin"];

/// Gives the account with `email` the role `role` in the main project's database (on
/// `db_port`, database `db_name`) and returns the function's JSON answer
/// `{user_id, email, role, previous_role}`.
pub async fn grant_role(
    db_port: u16,
    db_name: &str,
    email: &str,
    role: &str,
) -> anyhow::Result<serde_json::Value> {
    let (client, connection) = pg_config(db_port, db_name, "postgres")
        .connect(NoTls)
        .await
        .with_context(|| {
            format!("connecting to the stack's Postgres on port {db_port}: is devstack running?")
        })?;
    tokio::spawn(connection);
    let row = client
        .query_one(
            "select public.grant_account_role($1, $2::text::public.account_role)::text",
            &[&email, &role],
        )
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) => anyhow::anyhow!("{}", db.message()),
            None => anyhow::Error::new(e),
        })?;
    let answer: String = row.get(0);
    Ok(serde_json::from_str(&answer)?)
}
