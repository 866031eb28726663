//! The request headers that shape a PostgREST response: `Prefer`, `Accept`, `Range`, and the
//! `Accept-Profile`/`Content-Profile` schema choice.

use axum::http::{HeaderMap, StatusCode};

use super::error::ApiError;
use super::schema_cache::EXPOSED_SCHEMAS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnPreference {
    Minimal,
    HeadersOnly,
    Representation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountPreference {
    Exact,
    Planned,
    Estimated,
}

/// `tx=`: devstack honours it as PostgREST does with `db-tx-end = commit-allow-override`,
/// the behaviour supabase-js's `rollback()` documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transaction {
    Commit,
    Rollback,
}

/// `handling=`: `strict` refuses unknown preferences (PGRST122) and enforces `max-affected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Strict,
    Lenient,
}

#[derive(Debug, Default, Clone)]
pub struct Preferences {
    pub return_: Option<ReturnPreference>,
    pub count: Option<CountPreference>,
    pub resolution: Option<Resolution>,
    /// `missing=default` (true) or `missing=null` (false): whether absent keys take the
    /// column default rather than NULL.
    pub missing: Option<bool>,
    /// `params=single-object`: the whole body is the function's one json argument.
    pub single_object: bool,
    pub transaction: Option<Transaction>,
    pub handling: Option<Handling>,
    /// `max-affected=n`: with `handling=strict`, more affected rows fail the request (PGRST124).
    pub max_affected: Option<i64>,
    /// `timezone=…`: known to PostgREST, so never invalid, but not applied by devstack.
    pub timezone: bool,
    /// The values PostgREST does not know, in the order given (for PGRST122).
    pub invalid: Vec<String>,
}

impl Preferences {
    /// Every `Prefer` header, comma-separated values; the first of each kind wins and
    /// unknown ones are ignored (PostgREST's lenient handling).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut prefs = Preferences::default();
        let values = headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim);
        for value in values {
            match value {
                "return=minimal" => set_once(&mut prefs.return_, ReturnPreference::Minimal),
                "return=headers-only" => {
                    set_once(&mut prefs.return_, ReturnPreference::HeadersOnly)
                }
                "return=representation" => {
                    set_once(&mut prefs.return_, ReturnPreference::Representation)
                }
                "count=exact" => set_once(&mut prefs.count, CountPreference::Exact),
                "count=planned" => set_once(&mut prefs.count, CountPreference::Planned),
                "count=estimated" => set_once(&mut prefs.count, CountPreference::Estimated),
                "resolution=merge-duplicates" => {
                    set_once(&mut prefs.resolution, Resolution::MergeDuplicates)
                }
                "resolution=ignore-duplicates" => {
                    set_once(&mut prefs.resolution, Resolution::IgnoreDuplicates)
                }
                "missing=default" => set_once(&mut prefs.missing, true),
                "missing=null" => set_once(&mut prefs.missing, false),
                "params=single-object" => prefs.single_object = true,
                "tx=commit" => set_once(&mut prefs.transaction, Transaction::Commit),
                "tx=rollback" => set_once(&mut prefs.transaction, Transaction::Rollback),
                "handling=strict" => set_once(&mut prefs.handling, Handling::Strict),
                "handling=lenient" => set_once(&mut prefs.handling, Handling::Lenient),
                other => {
                    if let Some(n) = other.strip_prefix("max-affected=") {
                        if prefs.max_affected.is_none() {
                            prefs.max_affected = n.parse().ok();
                        }
                    } else if other.starts_with("timezone=") {
                        prefs.timezone = true;
                    } else {
                        prefs.invalid.push(other.to_owned());
                    }
                }
            }
        }
        prefs
    }

    pub fn missing_default(&self) -> bool {
        self.missing == Some(true)
    }

    pub fn strict(&self) -> bool {
        self.handling == Some(Handling::Strict)
    }

    pub fn rollback(&self) -> bool {
        self.transaction == Some(Transaction::Rollback)
    }

    /// `handling=strict` with a preference PostgREST does not know: PGRST122, before anything
    /// runs.
    pub fn check_strict(&self) -> Result<(), ApiError> {
        if !self.strict() || self.invalid.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "PGRST122",
            "Invalid preferences given with handling=strict",
            Some(&format!("Invalid preferences: {}", self.invalid.join(", "))),
            None,
        ))
    }

    /// PGRST124 when a strict `max-affected` is exceeded by `affected` rows: the caller's
    /// transaction then rolls back.
    pub fn check_max_affected(&self, affected: i64) -> Result<(), ApiError> {
        match self.max_affected {
            Some(n) if self.strict() && affected > n => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST124",
                "Query result exceeds max-affected preference constraint",
                Some(&format!("The query affects {affected} rows")),
                None,
            )),
            _ => Ok(()),
        }
    }

    /// `Preference-Applied` for a read: a count, the transaction's end and the handling.
    pub fn applied_to_read(&self) -> Option<String> {
        self.read_part(false).applied(false, false, false)
    }

    /// `Preference-Applied` for a function call: a read's, and `max-affected`.
    pub fn applied_to_call(&self) -> Option<String> {
        self.read_part(true).applied(false, false, true)
    }

    fn read_part(&self, with_max_affected: bool) -> Preferences {
        Preferences {
            count: self.count,
            transaction: self.transaction,
            handling: self.handling,
            max_affected: self.max_affected.filter(|_| with_max_affected),
            ..Preferences::default()
        }
    }

    /// The `Preference-Applied` value, in PostgREST's order, of what was honoured;
    /// `max-affected` only for PATCH, DELETE and calls, and only with `handling=strict`.
    pub fn applied(
        &self,
        resolution_applied: bool,
        missing_applied: bool,
        max_affected_applies: bool,
    ) -> Option<String> {
        let mut parts = Vec::new();
        match self.resolution {
            Some(Resolution::MergeDuplicates) if resolution_applied => {
                parts.push("resolution=merge-duplicates")
            }
            Some(Resolution::IgnoreDuplicates) if resolution_applied => {
                parts.push("resolution=ignore-duplicates")
            }
            _ => {}
        }
        match self.missing {
            Some(true) if missing_applied => parts.push("missing=default"),
            Some(false) if missing_applied => parts.push("missing=null"),
            _ => {}
        }
        match self.return_ {
            Some(ReturnPreference::Minimal) => parts.push("return=minimal"),
            Some(ReturnPreference::HeadersOnly) => parts.push("return=headers-only"),
            Some(ReturnPreference::Representation) => parts.push("return=representation"),
            None => {}
        }
        match self.count {
            Some(CountPreference::Exact) => parts.push("count=exact"),
            Some(CountPreference::Planned) => parts.push("count=planned"),
            Some(CountPreference::Estimated) => parts.push("count=estimated"),
            None => {}
        }
        match self.transaction {
            Some(Transaction::Commit) => parts.push("tx=commit"),
            Some(Transaction::Rollback) => parts.push("tx=rollback"),
            None => {}
        }
        match self.handling {
            Some(Handling::Strict) => parts.push("handling=strict"),
            Some(Handling::Lenient) => parts.push("handling=lenient"),
            None => {}
        }
        let mut parts: Vec<String> = parts.into_iter().map(str::to_owned).collect();
        if let Some(n) = self
            .max_affected
            .filter(|_| max_affected_applies && self.strict())
        {
            parts.push(format!("max-affected={n}"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// The response's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Json,
    /// `application/vnd.pgrst.object+json`: exactly one row, as an object.
    SingleObject,
    /// `application/vnd.pgrst.array+json;nulls=stripped` (supabase-js `stripNulls()`): JSON
    /// without the keys whose value is null.
    StrippedJson,
    /// `application/vnd.pgrst.object+json;nulls=stripped`.
    StrippedObject,
    Csv,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json; charset=utf-8",
            Self::SingleObject => "application/vnd.pgrst.object+json; charset=utf-8",
            Self::StrippedJson => "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8",
            Self::StrippedObject => {
                "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
            }
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// Exactly one row, as an object.
    pub fn is_single(self) -> bool {
        matches!(self, Self::SingleObject | Self::StrippedObject)
    }

    pub fn strips_nulls(self) -> bool {
        matches!(self, Self::StrippedJson | Self::StrippedObject)
    }
}

/// The first acceptable type in `Accept` (quality values are not weighed; clients list their
/// preference first), or PGRST107.
pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, ApiError> {
    let Some(accept) = headers.get("accept").and_then(|v| v.to_str().ok()) else {
        return Ok(MediaType::Json);
    };
    if accept.trim().is_empty() {
        return Ok(MediaType::Json);
    }
    let mut offered = Vec::new();
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let stripped = parts.any(|p| {
            p.split_once('=')
                .is_some_and(|(k, v)| k.trim() == "nulls" && v.trim() == "stripped")
        });
        let media = match essence.as_str() {
            "application/json" | "*/*" | "application/*" => MediaType::Json,
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" if stripped => {
                MediaType::StrippedObject
            }
            "application/vnd.pgrst.object+json" | "application/vnd.pgrst.object" => {
                MediaType::SingleObject
            }
            "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" if stripped => {
                MediaType::StrippedJson
            }
            "application/vnd.pgrst.array+json" | "application/vnd.pgrst.array" => MediaType::Json,
            "text/csv" | "text/*" => MediaType::Csv,
            _ => {
                offered.push(essence);
                continue;
            }
        };
        return Ok(media);
    }
    Err(ApiError::new(
        StatusCode::NOT_ACCEPTABLE,
        "PGRST107",
        format!(
            "None of these media types are available: {}",
            offered.join(", ")
        ),
        None,
        None,
    ))
}

/// The schema a request addresses: `Accept-Profile` for reads, `Content-Profile` for writes;
/// the first exposed schema when absent. Returns whether it was chosen by a header, which
/// makes the response echo `Content-Profile`.
pub fn schema_for(headers: &HeaderMap, is_read: bool) -> Result<(String, bool), ApiError> {
    let name = if is_read {
        "accept-profile"
    } else {
        "content-profile"
    };
    match headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        None | Some("") => Ok((EXPOSED_SCHEMAS[0].to_owned(), false)),
        Some(schema) if EXPOSED_SCHEMAS.contains(&schema) => Ok((schema.to_owned(), true)),
        Some(schema) => Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "PGRST106",
            format!("Invalid schema: {schema}"),
            None,
            Some(&format!(
                "Only the following schemas are exposed: {}",
                EXPOSED_SCHEMAS.join(", ")
            )),
        )),
    }
}

/// The rows a request wants: an offset and an optional limit, from the `Range` header
/// (`0-9`, items) intersected with `limit`/`offset`, as PostgREST combines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRange {
    pub offset: i64,
    pub limit: Option<i64>,
}

/// PostgREST does this arithmetic on unbounded integers and writes the results into the SQL,
/// where Postgres refuses what does not fit a bigint; the same is done here in `i128`, which
/// holds every sum of two `i64`s, so no value a client sends can overflow.
pub fn row_range(
    headers: &HeaderMap,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<RowRange, ApiError> {
    if limit.is_some_and(|n| n < 0) {
        return Err(ApiError::range_not_satisfiable(
            "Limit should be greater than or equal to zero.",
        ));
    }
    let limit = limit.map(i128::from);
    let offset = i128::from(offset.unwrap_or(0).max(0));
    // The header's range, when it is a well-formed `from-[to]`; anything else is ignored.
    let header = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (from, to) = v.trim().split_once('-')?;
            let from: i64 = from.parse().ok()?;
            let to: Option<i64> = if to.is_empty() {
                None
            } else {
                Some(to.parse().ok()?)
            };
            Some((i128::from(from), to.map(i128::from)))
        });
    let (mut lower, mut upper) = (offset, limit.map(|n| offset + n - 1));
    if let Some((from, to)) = header {
        if to.is_some_and(|to| to < from) {
            return Err(ApiError::range_not_satisfiable(
                "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
            ));
        }
        // A header range and limit/offset both given: PostgREST intersects them, the
        // query-string offset counting from the header's start.
        lower = from + offset;
        upper = match (to, limit) {
            (Some(to), Some(n)) => Some(to.min(lower + n - 1)),
            (Some(to), None) => Some(to),
            (None, Some(n)) => Some(lower + n - 1),
            (None, None) => None,
        };
    }
    Ok(RowRange {
        offset: bigint(lower)?,
        limit: upper.map(|u| bigint((u - lower + 1).max(0))).transpose()?,
    })
}

/// A LIMIT or OFFSET as Postgres takes it, or the error Postgres gives PostgREST for one that
/// does not fit.
fn bigint(n: i128) -> Result<i64, ApiError> {
    i64::try_from(n).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "22003",
            "bigint out of range",
            None,
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn prefer_values() {
        let p = Preferences::from_headers(&headers(&[
            ("prefer", "return=representation, count=exact"),
            (
                "prefer",
                "resolution=merge-duplicates,missing=default,bogus=1",
            ),
        ]));
        assert_eq!(p.return_, Some(ReturnPreference::Representation));
        assert_eq!(p.count, Some(CountPreference::Exact));
        assert_eq!(p.resolution, Some(Resolution::MergeDuplicates));
        assert!(p.missing_default());
        assert_eq!(p.invalid, vec!["bogus=1"]);
        assert_eq!(
            p.applied(true, true, false).unwrap(),
            "resolution=merge-duplicates, missing=default, return=representation, count=exact"
        );
        // Lenient by default: the unknown value is ignored.
        assert!(p.check_strict().is_ok());
    }

    #[test]
    fn strict_handling_and_max_affected() {
        let p = Preferences::from_headers(&headers(&[
            ("prefer", "handling=strict"),
            ("prefer", "max-affected=2, tx=rollback, timezone=UTC"),
        ]));
        assert!(p.check_strict().is_ok());
        assert!(p.rollback());
        assert!(p.check_max_affected(2).is_ok());
        let err = p.check_max_affected(3).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.body()["code"], "PGRST124");
        assert_eq!(err.body()["details"], "The query affects 3 rows");
        assert_eq!(
            p.applied(false, true, true).unwrap(),
            "tx=rollback, handling=strict, max-affected=2"
        );
        assert_eq!(p.applied_to_read().unwrap(), "tx=rollback, handling=strict");
        let bad = Preferences::from_headers(&headers(&[(
            "prefer",
            "handling=strict, anything=1, count=none",
        )]));
        let err = bad.check_strict().unwrap_err();
        assert_eq!(err.body()["code"], "PGRST122");
        assert_eq!(
            err.body()["details"],
            "Invalid preferences: anything=1, count=none"
        );
        // Lenient: max-affected is not enforced, nor echoed.
        let lenient =
            Preferences::from_headers(&headers(&[("prefer", "handling=lenient, max-affected=0")]));
        assert!(lenient.check_max_affected(5).is_ok());
        assert_eq!(
            lenient.applied(false, false, true).unwrap(),
            "handling=lenient"
        );
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(&headers(&[])).unwrap(), MediaType::Json);
        assert_eq!(
            negotiate(&headers(&[("accept", "application/vnd.pgrst.object+json")])).unwrap(),
            MediaType::SingleObject
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "text/csv")])).unwrap(),
            MediaType::Csv
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "application/json, text/plain, */*")])).unwrap(),
            MediaType::Json
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/vnd.pgrst.array+json;nulls=stripped"
            )]))
            .unwrap(),
            MediaType::StrippedJson
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/vnd.pgrst.object+json; nulls=stripped"
            )]))
            .unwrap(),
            MediaType::StrippedObject
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "application/vnd.pgrst.array+json")])).unwrap(),
            MediaType::Json
        );
        let err = negotiate(&headers(&[("accept", "image/png")])).unwrap_err();
        assert_eq!(err.status, 406);
    }

    #[test]
    fn profiles() {
        assert_eq!(
            schema_for(&headers(&[]), true).unwrap(),
            ("public".to_owned(), false)
        );
        assert_eq!(
            schema_for(&headers(&[("accept-profile", "public")]), true).unwrap(),
            ("public".to_owned(), true)
        );
        assert_eq!(
            schema_for(&headers(&[("content-profile", "auth")]), false)
                .unwrap_err()
                .status,
            406
        );
    }

    #[test]
    fn ranges() {
        let r = |h: &[(&'static str, &str)], l, o| row_range(&headers(h), l, o);
        assert_eq!(
            r(&[], None, None).unwrap(),
            RowRange {
                offset: 0,
                limit: None
            }
        );
        assert_eq!(
            r(&[("range", "0-9")], None, None).unwrap(),
            RowRange {
                offset: 0,
                limit: Some(10)
            }
        );
        assert_eq!(
            r(&[("range", "5-")], None, None).unwrap(),
            RowRange {
                offset: 5,
                limit: None
            }
        );
        assert_eq!(
            r(&[], Some(3), Some(2)).unwrap(),
            RowRange {
                offset: 2,
                limit: Some(3)
            }
        );
        assert_eq!(
            r(&[("range", "0-9")], Some(3), None).unwrap(),
            RowRange {
                offset: 0,
                limit: Some(3)
            }
        );
        assert_eq!(r(&[("range", "5-2")], None, None).unwrap_err().status, 416);
        assert_eq!(r(&[], Some(-1), None).unwrap_err().status, 416);
        assert_eq!(
            r(&[("range", "garbage")], None, None).unwrap(),
            RowRange {
                offset: 0,
                limit: None
            }
        );
    }

    #[test]
    fn huge_limits_offsets_and_ranges_never_overflow() {
        let r = |h: &[(&'static str, &str)], l, o| row_range(&headers(h), l, o);
        assert_eq!(
            r(&[], Some(i64::MAX), Some(1)).unwrap(),
            RowRange {
                offset: 1,
                limit: Some(i64::MAX)
            }
        );
        assert_eq!(
            r(&[], Some(i64::MAX), Some(i64::MAX)).unwrap(),
            RowRange {
                offset: i64::MAX,
                limit: Some(i64::MAX)
            }
        );
        let max = i64::MAX.to_string();
        let whole = format!("{max}-{max}");
        assert_eq!(
            r(&[("range", whole.as_str())], Some(i64::MAX), None).unwrap(),
            RowRange {
                offset: i64::MAX,
                limit: Some(1)
            }
        );
        // Past a bigint: what Postgres answers PostgREST for such an OFFSET.
        let open = format!("{max}-");
        let err = r(&[("range", open.as_str())], None, Some(i64::MAX)).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(err.body()["code"], "22003");
        let err = r(&[("range", "1-")], Some(i64::MAX), Some(i64::MAX)).unwrap_err();
        assert_eq!(err.body()["code"], "22003");
    }
}
