//! Filters, logic trees and orderings as SQL. Columns are quoted identifiers qualified by the
//! relation they belong to; values are quoted literals of unknown type, which Postgres coerces
//! to the column's type the way PostgREST's untyped parameters are.

use super::ast::{Field, Filter, IsValue, JsonKey, LogicTree, Operation, OrderTerm, Quantifier};
use super::sql_text::{ident, literal};

/// `reference."col"->'a'->>'b'`
pub fn field_sql(reference: &str, field: &Field) -> String {
    let mut sql = format!("{reference}.{}", ident(&field.name));
    for step in &field.json_path {
        sql.push_str(if step.as_text { "->>" } else { "->" });
        match &step.key {
            JsonKey::Name(key) => sql.push_str(&literal(key)),
            JsonKey::Index(i) => sql.push_str(&i.to_string()),
        }
    }
    sql
}

pub fn filter_sql(reference: &str, filter: &Filter) -> String {
    let column = field_sql(reference, &filter.field);
    let condition = match &filter.operation {
        Operation::Compare(op, value) => {
            let value = if op.uses_wildcards() {
                value.replace('*', "%")
            } else {
                value.clone()
            };
            format!("{column} {} {}", op.sql(), literal(&value))
        }
        Operation::Quantified(op, quantifier, value) => {
            let value = if op.uses_wildcards() {
                value.replace('*', "%")
            } else {
                value.clone()
            };
            let q = match quantifier {
                Quantifier::Any => "ANY",
                Quantifier::All => "ALL",
            };
            format!("{column} {} {q}({})", op.sql(), literal(&value))
        }
        Operation::In(values) if values.is_empty() => format!("{column} = ANY('{{}}')"),
        Operation::In(values) => {
            let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
            format!("{column} IN ({})", list.join(", "))
        }
        Operation::Is(value) => {
            let test = match value {
                IsValue::Null => "NULL",
                IsValue::NotNull => "NOT NULL",
                IsValue::True => "TRUE",
                IsValue::False => "FALSE",
                IsValue::Unknown => "UNKNOWN",
            };
            format!("{column} IS {test}")
        }
        Operation::Fts {
            op,
            language,
            query,
        } => {
            let config = language
                .as_deref()
                .map(|l| format!("{}, ", literal(l)))
                .unwrap_or_default();
            format!("{column} @@ {}({config}{})", op.function(), literal(query))
        }
    };
    if filter.negated {
        format!("NOT ({condition})")
    } else {
        condition
    }
}

pub fn tree_sql(reference: &str, tree: &LogicTree) -> String {
    match tree {
        LogicTree::Leaf(filter) => filter_sql(reference, filter),
        LogicTree::Node {
            negated,
            any,
            children,
        } => {
            let joiner = if *any { " OR " } else { " AND " };
            let parts: Vec<String> = children
                .iter()
                .map(|c| format!("({})", tree_sql(reference, c)))
                .collect();
            let sql = format!("({})", parts.join(joiner));
            if *negated { format!("NOT {sql}") } else { sql }
        }
    }
}

pub fn order_sql(reference: &str, terms: &[OrderTerm]) -> String {
    terms
        .iter()
        .map(|t| {
            let mut sql = field_sql(reference, &t.field);
            sql.push_str(if t.descending { " DESC" } else { " ASC" });
            match t.nulls_first {
                Some(true) => sql.push_str(" NULLS FIRST"),
                Some(false) => sql.push_str(" NULLS LAST"),
                None => {}
            }
            sql
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::query_parser::{parse_filter, parse_key_path, parse_logic_tree, parse_order};
    use super::*;

    fn filter(key: &str, value: &str) -> String {
        let (_, field) = parse_key_path(key).unwrap();
        filter_sql("\"public\".\"t\"", &parse_filter(field, value).unwrap())
    }

    #[test]
    fn filters_as_sql() {
        assert_eq!(filter("id", "eq.1"), "\"public\".\"t\".\"id\" = '1'");
        assert_eq!(
            filter("id", "not.gt.1"),
            "NOT (\"public\".\"t\".\"id\" > '1')"
        );
        assert_eq!(filter("n", "like.*a*"), "\"public\".\"t\".\"n\" LIKE '%a%'");
        assert_eq!(
            filter("n", "in.(a,b)"),
            "\"public\".\"t\".\"n\" IN ('a', 'b')"
        );
        assert_eq!(filter("n", "in.()"), "\"public\".\"t\".\"n\" = ANY('{}')");
        assert_eq!(filter("n", "is.null"), "\"public\".\"t\".\"n\" IS NULL");
        assert_eq!(
            filter("d->>k", "eq.v"),
            "\"public\".\"t\".\"d\"->>'k' = 'v'"
        );
        assert_eq!(
            filter("d->0->k", "eq.1"),
            "\"public\".\"t\".\"d\"->0->'k' = '1'"
        );
        assert_eq!(
            filter("tags", "cs.{a,b}"),
            "\"public\".\"t\".\"tags\" @> '{a,b}'"
        );
        assert_eq!(
            filter("doc", "fts(english).cat"),
            "\"public\".\"t\".\"doc\" @@ to_tsquery('english', 'cat')"
        );
        assert_eq!(
            filter("n", "eq(any).{a,b}"),
            "\"public\".\"t\".\"n\" = ANY('{a,b}')"
        );
    }

    #[test]
    fn injection_attempts_stay_inside_quotes() {
        assert_eq!(
            filter("id", "eq.1'; DROP TABLE t; --"),
            "\"public\".\"t\".\"id\" = '1''; DROP TABLE t; --'"
        );
        assert!(parse_key_path("id\"; DROP TABLE t; --").is_err());
        assert_eq!(
            filter("\"id\\\"; DROP TABLE t; --\"", "eq.1"),
            "\"public\".\"t\".\"id\"\"; DROP TABLE t; --\" = '1'"
        );
        assert_eq!(
            filter("n", "in.(\"a'),b\",c)"),
            "\"public\".\"t\".\"n\" IN ('a''),b', 'c')"
        );
        assert_eq!(
            filter("d->>k'x", "eq.\\'"),
            "\"public\".\"t\".\"d\"->>'k''x' = E'\\\\'''"
        );
        assert!(parse_order("id\";drop table t;--.desc").is_err());
        let order = parse_order("\"id\\\";drop table t;--\".desc").unwrap();
        assert_eq!(order_sql("r", &order), "r.\"id\"\";drop table t;--\" DESC");
    }

    #[test]
    fn trees_and_orders() {
        let tree = parse_logic_tree(false, true, "(a.eq.1,and(b.gt.2,c.is.null))").unwrap();
        assert_eq!(
            tree_sql("r", &tree),
            "((r.\"a\" = '1') OR (((r.\"b\" > '2') AND (r.\"c\" IS NULL))))"
        );
        let tree = parse_logic_tree(true, false, "(a.eq.1)").unwrap();
        assert_eq!(tree_sql("r", &tree), "NOT ((r.\"a\" = '1'))");
        let order = parse_order("a.desc.nullslast,b").unwrap();
        assert_eq!(
            order_sql("r", &order),
            "r.\"a\" DESC NULLS LAST, r.\"b\" ASC"
        );
    }
}
