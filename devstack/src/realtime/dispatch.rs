//! Turns one decoded row change into the `postgres_changes` messages each subscriber may see,
//! as Realtime's `realtime.apply_rls` does: per subscriber role, the columns it may select; per
//! subscriber, its filter and — for inserts and updates on a table with row-level security —
//! whether Postgres shows it the row when it runs as that role with those JWT claims.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::hub::{Hub, Subscriber};
use super::protocol::Frame;
use super::subscription::Action;
use crate::project::Project;

/// One change as wal2json's format 2 writes it (with `include-pk`, `include-timestamp` and
/// `include-type-oids`).
#[derive(Debug, Deserialize)]
pub struct WalChange {
    pub action: String,
    pub schema: String,
    pub table: String,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub columns: Vec<WalColumn>,
    #[serde(default)]
    pub identity: Vec<WalColumn>,
    #[serde(default)]
    pub pk: Vec<WalKey>,
}

#[derive(Debug, Deserialize)]
pub struct WalColumn {
    pub name: String,
    #[serde(default)]
    pub typeoid: u32,
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Deserialize)]
pub struct WalKey {
    pub name: String,
    #[serde(default)]
    pub typeoid: u32,
}

impl WalChange {
    fn action(&self) -> Option<Action> {
        match self.action.as_str() {
            "I" => Some(Action::Insert),
            "U" => Some(Action::Update),
            "D" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// Values as Realtime casts them (`realtime.cast`: the text through the column's type to
/// JSON), the commit time in its format, and what the table's RLS check needs.
const DESCRIBE_CHANGE: &str = "\
SELECT
  (SELECT coalesce(jsonb_object_agg(c.n, realtime.cast(c.v, c.t::regtype)), '{}')
     FROM unnest($1::text[], $2::text[], $3::oid[]) AS c(n, v, t)),
  (SELECT coalesce(jsonb_object_agg(c.n, realtime.cast(c.v, c.t::regtype)), '{}')
     FROM unnest($4::text[], $5::text[], $6::oid[]) AS c(n, v, t)),
  to_char(($7::text::timestamptz AT TIME ZONE 'utc'), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
  cl.relrowsecurity,
  (SELECT 'SELECT EXISTS (SELECT 1 FROM ' || format('%I.%I', $8::text, $9::text) || ' WHERE '
          || string_agg(format('%I = $%s::text::%s', k.n, k.i, format_type(k.t, NULL)), ' AND ' ORDER BY k.i)
          || ')'
     FROM unnest($10::text[], $11::oid[]) WITH ORDINALITY AS k(n, t, i))
FROM pg_class cl WHERE cl.oid = format('%I.%I', $8::text, $9::text)::regclass";

/// Per role: the columns it may select (the payload's `columns`, and what `record` keeps).
const ROLE_COLUMNS: &str = "\
SELECT r.role,
  coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', t.typname) ORDER BY a.attnum)
           FILTER (WHERE has_column_privilege(r.role, a.attrelid, a.attnum, 'SELECT')), '[]'),
  coalesce(array_agg(a.attname::text) FILTER (WHERE has_column_privilege(r.role, a.attrelid, a.attnum, 'SELECT')), '{}')
FROM unnest($1::text[]) AS r(role)
JOIN pg_roles pr ON pr.rolname = r.role
CROSS JOIN pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = format('%I.%I', $2::text, $3::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
GROUP BY r.role";

/// Delivers one change to every subscriber entitled to it.
pub async fn deliver(project: &Project, hub: &Hub, change: &WalChange) -> anyhow::Result<()> {
    let Some(action) = change.action() else {
        return Ok(());
    };
    let subscribers = hub.matching(&change.schema, &change.table, action);
    if subscribers.is_empty() {
        return Ok(());
    }
    let client = project.pools.admin.get().await?;
    let (names, values, oids) = columns_as_params(&change.columns);
    let (old_names, old_values, old_oids) = columns_as_params(&change.identity);
    let pk_names: Vec<&str> = change.pk.iter().map(|k| k.name.as_str()).collect();
    let pk_oids: Vec<u32> = change.pk.iter().map(|k| k.typeoid).collect();
    let described = client
        .query_one(
            DESCRIBE_CHANGE,
            &[
                &names,
                &values,
                &oids,
                &old_names,
                &old_values,
                &old_oids,
                &change.timestamp,
                &change.schema,
                &change.table,
                &pk_names,
                &pk_oids,
            ],
        )
        .await?;
    let record: Value = described.get(0);
    let old_record: Value = described.get(1);
    let commit_timestamp: Option<String> = described.get(2);
    let rls_enabled: bool = described.get(3);
    let rls_sql: Option<String> = described.get(4);
    let empty = Map::new();
    let record = record.as_object().unwrap_or(&empty);
    let old_record = old_record.as_object().unwrap_or(&empty);

    let mut by_role: BTreeMap<&str, Vec<&Arc<Subscriber>>> = BTreeMap::new();
    for s in &subscribers {
        by_role
            .entry(s.credentials.role.as_str())
            .or_default()
            .push(s);
    }
    let roles: Vec<&str> = by_role.keys().copied().collect();
    let privileges: HashMap<String, (Value, Vec<String>)> = client
        .query(ROLE_COLUMNS, &[&roles, &change.schema, &change.table])
        .await?
        .into_iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect();
    drop(client);

    let base = |columns: Value, errors: Value, commit_timestamp: Value| {
        let mut data = json!({
            "schema": change.schema, "table": change.table, "type": action.as_str(),
            "commit_timestamp": commit_timestamp, "columns": columns, "errors": errors,
        });
        if action != Action::Delete {
            data["record"] = json!({});
        }
        if action != Action::Insert {
            data["old_record"] = json!({});
        }
        data
    };
    for (role, members) in by_role {
        let (columns, selectable) = privileges
            .get(role)
            .cloned()
            .unwrap_or((json!([]), Vec::new()));
        // An insert or update the role cannot even identify: an error, and no row.
        if action != Action::Delete {
            let error = if change.pk.is_empty() {
                Some("Error 400: Bad Request, no primary key")
            } else if !change.pk.iter().all(|k| selectable.contains(&k.name)) {
                Some("Error 401: Unauthorized")
            } else {
                None
            };
            if let Some(error) = error {
                send(&members, &base(json!([]), json!([error]), Value::Null));
                continue;
            }
        }
        let candidates: Vec<&Arc<Subscriber>> = members
            .into_iter()
            .filter(|s| match action {
                Action::Delete => s.binding.passes(old_record),
                _ => s.binding.passes(record),
            })
            .collect();
        let visible = match (&rls_sql, rls_enabled && action != Action::Delete) {
            (Some(sql), true) => {
                let pk_values = pk_values(change);
                match visible_under_rls(project, sql, &pk_values, &candidates).await {
                    Ok(visible) => visible,
                    Err(e) => {
                        tracing::warn!(
                            "realtime: RLS check on {}.{} failed: {e}",
                            change.schema,
                            change.table
                        );
                        Vec::new()
                    }
                }
            }
            _ => candidates,
        };
        if visible.is_empty() {
            continue;
        }
        let keep = |row: &Map<String, Value>, only_keys: bool| -> Value {
            Value::Object(
                row.iter()
                    .filter(|(k, _)| selectable.contains(k))
                    .filter(|(k, _)| !only_keys || change.pk.iter().any(|p| &p.name == *k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        };
        let mut data = base(columns, Value::Null, commit_timestamp.clone().into());
        if action != Action::Delete {
            data["record"] = keep(record, false);
        }
        if action != Action::Insert {
            // Deletes are not checked against RLS: with RLS on, only the key goes out.
            data["old_record"] = keep(old_record, action == Action::Delete && rls_enabled);
        }
        send(&visible, &data);
    }
    Ok(())
}

/// One `postgres_changes` message per joined channel, naming the channel's bindings it
/// satisfies by their ids.
fn send(subscribers: &[&Arc<Subscriber>], data: &Value) {
    let mut per_channel: BTreeMap<(u64, &str), Vec<&Arc<Subscriber>>> = BTreeMap::new();
    for s in subscribers {
        per_channel
            .entry((s.connection, s.topic.as_str()))
            .or_default()
            .push(s);
    }
    for members in per_channel.into_values() {
        let s = members[0];
        let mut ids: Vec<u32> = members.iter().map(|m| m.id).collect();
        ids.dedup();
        let frame = Frame::push(
            None,
            &s.topic,
            "postgres_changes",
            json!({"ids": ids, "data": data}),
        );
        // A closed socket has already dropped its subscribers, or is about to.
        let _ = s.out.send(frame);
    }
}

type Check<'a> =
    Pin<Box<dyn Future<Output = Result<Option<bool>, tokio_postgres::Error>> + Send + 'a>>;

/// Runs the row's primary-key lookup once per distinct (role, claims), each under
/// `SET LOCAL ROLE` and `request.jwt.claims` as PostgREST would for that token, pipelined on one
/// connection in one read-only transaction.
async fn visible_under_rls<'s>(
    project: &Project,
    sql: &str,
    pk_values: &[Option<String>],
    candidates: &[&'s Arc<Subscriber>],
) -> anyhow::Result<Vec<&'s Arc<Subscriber>>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let mut identities: Vec<(&str, String)> = Vec::new();
    let identity_of: Vec<usize> = candidates
        .iter()
        .map(|s| {
            let key = (
                s.credentials.role.as_str(),
                s.credentials.claims.to_string(),
            );
            identities
                .iter()
                .position(|i| *i == key)
                .unwrap_or_else(|| {
                    identities.push(key);
                    identities.len() - 1
                })
        })
        .collect();
    let mut client = project.pools.api.get().await?;
    let tx = client.build_transaction().read_only(true).start().await?;
    let set = tx
        .prepare_cached(
            "SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
        )
        .await?;
    let check = tx.prepare_cached(sql).await?;
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = pk_values
        .iter()
        .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    // Queued in this order on the wire: each lookup runs right after its own role switch.
    let mut steps: Vec<Check<'_>> = Vec::new();
    for (role, claims) in &identities {
        let (tx, set, check, params) = (&tx, &set, &check, &params);
        steps.push(Box::pin(async move {
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [role, claims];
            tx.execute(set, &params).await.map(|_| None)
        }));
        steps.push(Box::pin(async move {
            tx.query_one(check, params)
                .await
                .map(|row| Some(row.get::<_, bool>(0)))
        }));
    }
    let results = futures_util::future::try_join_all(steps).await?;
    let allowed: Vec<bool> = results.into_iter().flatten().collect();
    drop(tx);
    Ok(candidates
        .iter()
        .zip(identity_of)
        .filter(|(_, i)| allowed[*i])
        .map(|(s, _)| *s)
        .collect())
}

fn pk_values(change: &WalChange) -> Vec<Option<String>> {
    change
        .pk
        .iter()
        .map(|k| {
            change
                .columns
                .iter()
                .find(|c| c.name == k.name)
                .and_then(|c| value_text(&c.value))
        })
        .collect()
}

/// A column's value as the text Postgres would parse (`(x->'value') #>> '{}'`).
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn columns_as_params(columns: &[WalColumn]) -> (Vec<&str>, Vec<Option<String>>, Vec<u32>) {
    (
        columns.iter().map(|c| c.name.as_str()).collect(),
        columns.iter().map(|c| value_text(&c.value)).collect(),
        columns.iter().map(|c| c.typeoid).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal2json_format_2_is_read() {
        let change: WalChange = serde_json::from_str(
            r#"{"action":"U","timestamp":"2026-12-01 22:48:26.123456+00","schema":"public","table":"t",
                "columns":[{"name":"id","type":"integer","typeoid":23,"value":5},
                           {"name":"labels","type":"jsonb","typeoid":3802,"value":"[1]"},
                           {"name":"note","type":"text","typeoid":25,"value":null}],
                "identity":[{"name":"id","type":"integer","typeoid":23,"value":5}],
                "pk":[{"name":"id","type":"integer","typeoid":23}]}"#,
        )
        .unwrap();
        assert_eq!(change.action(), Some(Action::Update));
        assert_eq!(pk_values(&change), vec![Some("5".to_owned())]);
        let (names, values, oids) = columns_as_params(&change.columns);
        assert_eq!(names, ["id", "labels", "note"]);
        assert_eq!(values, [Some("5".into()), Some("[1]".into()), None]);
        assert_eq!(oids, [23, 3802, 25]);
    }
}
