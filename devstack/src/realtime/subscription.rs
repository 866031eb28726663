//! One `postgres_changes` binding of a join: its event, schema, table and filter, parsed the way
//! Supabase Realtime parses them (`Subscriptions.parse_subscription_params`), and the test of a
//! change's row against the filter.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Which row events a binding wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    All,
    Insert,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "*",
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }

    pub fn wants(self, change: Action) -> bool {
        self == Self::All || self == change
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In(Vec<String>),
}

/// `column=[not.]op.value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    pub value: String,
    pub negate: bool,
}

/// A parsed binding. `schema` and `table` may be `*`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub action: Action,
    pub schema: String,
    pub table: String,
    pub filters: Vec<Filter>,
}

/// Operators Realtime knows; the ones after `in` devstack does not evaluate.
const REALTIME_OPERATORS: [&str; 13] = [
    "eq",
    "neq",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "like",
    "ilike",
    "is",
    "match",
    "imatch",
    "isdistinct",
];

impl Binding {
    /// Parses the client's `{event, schema, table, filter}` map; errors are Realtime's words.
    pub fn parse(params: &Value) -> Result<Self, String> {
        let action = match params.get("event").and_then(Value::as_str) {
            Some(e) if e.eq_ignore_ascii_case("INSERT") => Action::Insert,
            Some(e) if e.eq_ignore_ascii_case("UPDATE") => Action::Update,
            Some(e) if e.eq_ignore_ascii_case("DELETE") => Action::Delete,
            _ => Action::All,
        };
        let text = |key: &str| params.get(key).and_then(Value::as_str);
        let has = |key: &str| params.get(key).is_some();
        let (schema, table, filters) = match (text("schema"), text("table"), text("filter")) {
            (Some(schema), Some(table), Some(filter)) => (
                schema,
                table,
                parse_filters(filter).map_err(|e| format!("Error parsing `filter` params: {e}"))?,
            ),
            (Some(schema), Some(table), None) if !has("filter") => (schema, table, Vec::new()),
            (Some(schema), None, None) if !has("table") && !has("filter") => {
                (schema, "*", Vec::new())
            }
            (None, Some(table), None) if !has("schema") && !has("filter") => {
                ("public", table, Vec::new())
            }
            _ => {
                return Err(format!(
                    "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: {params}"
                ));
            }
        };
        Ok(Self {
            action,
            schema: schema.to_owned(),
            table: table.to_owned(),
            filters,
        })
    }

    /// The parameters as Realtime writes them into its errors (`params_to_log`).
    pub fn describe(&self) -> String {
        let filters: Vec<String> = self
            .filters
            .iter()
            .map(|f| {
                let (op, value) = match &f.op {
                    Op::In(items) => ("in", format!("{{{}}}", items.join(","))),
                    other => (op_name(other), f.value.clone()),
                };
                format!("{{{:?}, {op:?}, {value:?}, {}}}", f.column, f.negate)
            })
            .collect();
        format!(
            "event: {}, schema: {}, table: {}, filters: [{}], select: nil",
            self.action.as_str(),
            self.schema,
            self.table,
            filters.join(", ")
        )
    }

    /// Whether a row (column name → value, as sent to clients) passes every filter.
    pub fn passes(&self, row: &Map<String, Value>) -> bool {
        self.filters.iter().all(|f| f.passes(row))
    }
}

/// The id the server gives a binding in its join reply and in each change it delivers; the
/// client matches bindings to it by position. Realtime uses a hash of the params map.
pub fn binding_id(params: &Value) -> u32 {
    let digest = Sha256::digest(params.to_string().as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x07ff_ffff
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Neq => "neq",
        Op::Lt => "lt",
        Op::Lte => "lte",
        Op::Gt => "gt",
        Op::Gte => "gte",
        Op::In(_) => "in",
    }
}

impl Filter {
    fn passes(&self, row: &Map<String, Value>) -> bool {
        // A missing column or a NULL value makes Postgres's comparison NULL: never visible.
        let Some(actual) = row.get(&self.column).filter(|v| !v.is_null()) else {
            return false;
        };
        let result = match &self.op {
            Op::In(items) => items.iter().any(|item| equal(actual, item)),
            Op::Eq => equal(actual, &self.value),
            Op::Neq => !equal(actual, &self.value),
            ordering => match compare(actual, &self.value) {
                Some(o) => match ordering {
                    Op::Lt => o == Ordering::Less,
                    Op::Lte => o != Ordering::Greater,
                    Op::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
                None => return false,
            },
        };
        result != self.negate
    }
}

/// Compares as the column's type does: numbers numerically, booleans as booleans, JSON as
/// JSON, everything else (text, uuid, enum, ISO timestamps) as text.
fn compare(actual: &Value, expected: &str) -> Option<Ordering> {
    match actual {
        Value::Number(n) => n
            .as_f64()?
            .partial_cmp(&expected.trim().parse::<f64>().ok()?),
        Value::Bool(b) => Some(b.cmp(&parse_bool(expected)?)),
        Value::String(s) => Some(s.as_str().cmp(expected)),
        other => {
            (serde_json::from_str::<Value>(expected).ok()? == *other).then_some(Ordering::Equal)
        }
    }
}

fn equal(actual: &Value, expected: &str) -> bool {
    compare(actual, expected) == Some(Ordering::Equal)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "on" | "1" => Some(true),
        "false" | "f" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn parse_filters(filter: &str) -> Result<Vec<Filter>, String> {
    let trimmed = filter.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    split_top_level(trimmed)
        .iter()
        .map(|segment| parse_segment(segment))
        .collect()
}

/// Splits on commas outside parentheses and double quotes (`a=in.(1,2),b=eq.3`).
fn split_top_level(filter: &str) -> Vec<String> {
    let (mut parts, mut current) = (Vec::new(), String::new());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in filter.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
}

fn parse_segment(segment: &str) -> Result<Filter, String> {
    let trimmed = segment.trim();
    if trimmed.is_empty() {
        return Err("filter must not contain empty segments (check for extra commas)".into());
    }
    let Some((column, rest)) = trimmed.split_once('=') else {
        return Err(format!("[{trimmed:?}]"));
    };
    let (negate, op_value) = match rest.strip_prefix("not.") {
        Some(op_value) => (true, op_value),
        None => (false, rest),
    };
    let Some((op, value)) = op_value.split_once('.') else {
        return Err(format!("[{column:?}, {rest:?}]"));
    };
    let op = match op {
        "eq" => Op::Eq,
        "neq" => Op::Neq,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "in" => {
            let inner = value
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or("`in` filter value must be wrapped by parentheses")?;
            Op::In(
                split_top_level(inner)
                    .iter()
                    .map(|i| unquote(i.trim()))
                    .collect(),
            )
        }
        known if REALTIME_OPERATORS.contains(&known) => {
            return Err(format!(
                "devstack Realtime does not evaluate the `{known}` operator (it supports eq, neq, lt, lte, gt, gte and in)"
            ));
        }
        unknown => return Err(format!("[{unknown:?}, {value:?}]")),
    };
    Ok(Filter {
        column: column.to_owned(),
        op,
        value: unquote(value),
        negate,
    })
}

/// `"a,b"` → `a,b`; a backslash keeps the next character.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn params_default_as_realtime_defaults_them() {
        let b =
            Binding::parse(&json!({"event": "insert", "schema": "public", "table": "t"})).unwrap();
        assert_eq!(
            (b.action, b.schema.as_str(), b.table.as_str()),
            (Action::Insert, "public", "t")
        );
        let b = Binding::parse(&json!({"event": "*", "schema": "public"})).unwrap();
        assert_eq!((b.action, b.table.as_str()), (Action::All, "*"));
        let b = Binding::parse(&json!({"table": "t"})).unwrap();
        assert_eq!(b.schema, "public");
        let err = Binding::parse(&json!({"event": "*"})).unwrap_err();
        assert!(err.starts_with("No subscription params provided."), "{err}");
    }

    #[test]
    fn each_operator_filters_rows() {
        let r = row(json!({"id": 5, "name": "b", "at": null, "ok": true}));
        let passes = |filter: &str| {
            Binding::parse(&json!({"schema": "public", "table": "t", "filter": filter}))
                .unwrap()
                .passes(&r)
        };
        assert!(passes("id=eq.5") && !passes("id=eq.6"));
        assert!(passes("id=neq.6") && !passes("id=neq.5"));
        assert!(passes("id=lt.10") && !passes("id=lt.5") && passes("id=lte.5"));
        assert!(passes("id=gt.4") && !passes("id=gt.5") && passes("id=gte.5"));
        assert!(passes("name=in.(a,b)") && !passes("name=in.(a,c)"));
        assert!(passes("name=in.(\"b\",\"c,d\")"));
        assert!(passes("id=gt.1,name=eq.b") && !passes("id=gt.1,name=eq.c"));
        assert!(passes("id=not.eq.6") && passes("ok=eq.true"));
        assert!(!passes("at=eq.x") && !passes("at=neq.x") && !passes("missing=eq.1"));
        assert!(!passes("id=gt.10") && passes("id=lt.10.5"));
    }

    #[test]
    fn malformed_filters_are_refused_with_realtimes_words() {
        let err = |filter: &str| {
            Binding::parse(&json!({"schema": "public", "table": "t", "filter": filter}))
                .unwrap_err()
        };
        assert_eq!(
            err("subject=foo.hey"),
            r#"Error parsing `filter` params: ["foo", "hey"]"#
        );
        assert_eq!(
            err("undefined"),
            r#"Error parsing `filter` params: ["undefined"]"#
        );
        assert_eq!(
            err("id=in.1,2"),
            "Error parsing `filter` params: `in` filter value must be wrapped by parentheses"
        );
        assert!(err("a=eq.1,,b=eq.2").contains("empty segments"));
        assert!(err("a=like.x%").contains("does not evaluate the `like` operator"));
    }

    #[test]
    fn bindings_are_described_and_numbered_stably() {
        let params = json!({"event": "*", "schema": "public", "table": "t", "filter": "id=eq.1"});
        let b = Binding::parse(&params).unwrap();
        assert_eq!(
            b.describe(),
            r#"event: *, schema: public, table: t, filters: [{"id", "eq", "1", false}], select: nil"#
        );
        assert_eq!(binding_id(&params), binding_id(&params.clone()));
        assert_ne!(binding_id(&params), binding_id(&json!({"table": "t"})));
    }
}
