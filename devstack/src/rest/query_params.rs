//! The query string, split into what PostgREST reads from it: `select`, filters, `or`/`and`,
//! `order`, `limit`/`offset` (top level or for an embedded resource), `columns`,
//! `on_conflict`, and the arguments of `GET /rpc/<fn>`.

use super::ast::{EmbedPath, LogicTree, OrderTerm, SelectItem};
use super::error::ApiError;
use super::query_parser::{
    SyntaxError, parse_columns, parse_filter, parse_key_path, parse_logic_tree, parse_order,
    parse_select,
};

#[derive(Debug, Default)]
pub struct QueryParams {
    pub select: Vec<SelectItem>,
    /// Conditions, each for the table at its embed path (empty: the requested table).
    pub filters: Vec<(EmbedPath, LogicTree)>,
    pub orders: Vec<(EmbedPath, Vec<OrderTerm>)>,
    pub limits: Vec<(EmbedPath, i64)>,
    pub offsets: Vec<(EmbedPath, i64)>,
    pub columns: Option<Vec<String>>,
    pub on_conflict: Option<Vec<String>>,
    /// `name=value` pairs naming a parameter of the function, for `GET /rpc/<fn>`.
    pub rpc_args: Vec<(String, String)>,
}

impl QueryParams {
    pub fn limit(&self, path: &[String]) -> Option<i64> {
        self.limits.iter().find(|(p, _)| p == path).map(|(_, n)| *n)
    }

    pub fn offset(&self, path: &[String]) -> Option<i64> {
        self.offsets
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, n)| *n)
    }

    pub fn order(&self, path: &[String]) -> Option<&[OrderTerm]> {
        self.orders
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_slice())
    }

    /// Every embed path some parameter refers to.
    pub fn embed_paths(&self) -> impl Iterator<Item = &EmbedPath> {
        self.filters
            .iter()
            .map(|(p, _)| p)
            .chain(self.orders.iter().map(|(p, _)| p))
            .chain(self.limits.iter().map(|(p, _)| p))
            .chain(self.offsets.iter().map(|(p, _)| p))
            .filter(|p| !p.is_empty())
    }

    /// Parses a raw query string. `is_rpc_arg` says which bare names are function arguments.
    pub fn parse(raw: &str, is_rpc_arg: impl Fn(&str) -> bool) -> Result<Self, ApiError> {
        let mut params = QueryParams {
            select: vec![SelectItem::Star],
            ..Default::default()
        };
        for (key, value) in decode_pairs(raw)? {
            let (path, last) = split_reserved(&key);
            match last {
                "select" if path.is_empty() => {
                    params.select = parse_select(&value).map_err(ApiError::syntax)?
                }
                "columns" if path.is_empty() => {
                    params.columns =
                        Some(parse_columns("columns", &value).map_err(ApiError::syntax)?)
                }
                "on_conflict" if path.is_empty() => {
                    params.on_conflict =
                        Some(parse_columns("on_conflict", &value).map_err(ApiError::syntax)?)
                }
                "order" => {
                    let terms = parse_order(&value).map_err(ApiError::syntax)?;
                    params.orders.push((path, terms));
                }
                "limit" | "offset" => {
                    let n = value.trim().parse::<i64>().map_err(|_| {
                        ApiError::syntax(SyntaxError {
                            message: format!(
                                "\"failed to parse {last} parameter ({value})\" (line 1, column 1)"
                            ),
                            details: "unexpected input expecting an integer".to_owned(),
                        })
                    })?;
                    if last == "limit" {
                        params.limits.push((path, n));
                    } else {
                        params.offsets.push((path, n));
                    }
                }
                "or" | "and" | "not.or" | "not.and" => {
                    let tree =
                        parse_logic_tree(last.starts_with("not."), last.ends_with("or"), &value)
                            .map_err(ApiError::syntax)?;
                    params.filters.push((path, tree));
                }
                _ if is_rpc_arg(&key) => params.rpc_args.push((key, value)),
                _ => {
                    let (path, field) = parse_key_path(&key).map_err(ApiError::syntax)?;
                    let filter = parse_filter(field, &value).map_err(ApiError::syntax)?;
                    params.filters.push((path, LogicTree::Leaf(filter)));
                }
            }
        }
        Ok(params)
    }
}

/// `a.b.order` → (`[a, b]`, `order`); `not.or` and `a.not.or` keep their `not.`.
fn split_reserved(key: &str) -> (Vec<String>, &str) {
    let parts: Vec<&str> = key.split('.').collect();
    let n = parts.len();
    if n >= 2 && parts[n - 2] == "not" && matches!(parts[n - 1], "or" | "and") {
        let start = key.len() - parts[n - 1].len() - 4;
        return (
            parts[..n - 2].iter().map(|s| s.to_string()).collect(),
            &key[start..],
        );
    }
    let last = parts[n - 1];
    if matches!(last, "order" | "limit" | "offset" | "or" | "and") || n == 1 {
        (parts[..n - 1].iter().map(|s| s.to_string()).collect(), last)
    } else {
        (Vec::new(), key)
    }
}

/// `application/x-www-form-urlencoded` pairs (`+` is a space), as PostgREST reads them.
/// NUL bytes, which Postgres text cannot hold, are refused here once for every parameter.
fn decode_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs = Vec::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (k, v) = (decode_component(k)?, decode_component(v)?);
        if k.contains('\0') || v.contains('\0') {
            return Err(ApiError::nul_byte());
        }
        pairs.push((k, v));
    }
    Ok(pairs)
}

pub fn decode_component(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::invalid_query_encoding())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_a_form() {
        assert_eq!(decode_component("a+b%20c%2C").unwrap(), "a b c,");
        assert_eq!(decode_component("100%").unwrap(), "100%");
        assert_eq!(decode_component("%zz").unwrap(), "%zz");
        assert!(decode_component("%ff").is_err());
    }

    #[test]
    fn splits_reserved_keys() {
        assert_eq!(split_reserved("order"), (vec![], "order"));
        assert_eq!(
            split_reserved("books.order"),
            (vec!["books".into()], "order")
        );
        assert_eq!(split_reserved("not.or"), (vec![], "not.or"));
        assert_eq!(split_reserved("a.not.and"), (vec!["a".into()], "not.and"));
        assert_eq!(split_reserved("books.title"), (vec![], "books.title"));
    }

    #[test]
    fn parses_a_full_query() {
        let q = QueryParams::parse(
            "select=id,title&id=gt.1&or=(a.eq.1,b.eq.2)&order=id.desc&limit=5&offset=10&books.limit=2&x=5",
            |k| k == "x",
        )
        .unwrap();
        assert_eq!(q.select.len(), 2);
        assert_eq!(q.filters.len(), 2);
        assert_eq!(q.limit(&[]), Some(5));
        assert_eq!(q.offset(&[]), Some(10));
        assert_eq!(q.limit(&["books".to_owned()]), Some(2));
        assert_eq!(q.rpc_args, vec![("x".to_owned(), "5".to_owned())]);
        assert!(QueryParams::parse("limit=abc", |_| false).is_err());
        assert!(QueryParams::parse("id=eq.%00", |_| false).is_err());
        assert!(QueryParams::parse("id=bogus.1", |_| false).is_err());
    }
}
