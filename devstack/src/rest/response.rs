//! Turning a statement's result into PostgREST's response: status, `Content-Range`,
//! `Preference-Applied`, `Location`, and the body in the negotiated media type.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

use super::error::ApiError;
use super::preferences::MediaType;

/// A response being assembled.
pub struct Reply {
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: Option<(MediaType, String)>,
}

impl Reply {
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn header_opt(self, name: &'static str, value: Option<String>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    /// `body` is the JSON the statement produced; it is reshaped for the media type.
    pub fn body(mut self, media: MediaType, body: String) -> Result<Self, ApiError> {
        let body = match media {
            MediaType::Json | MediaType::StrippedJson => body,
            MediaType::SingleObject | MediaType::StrippedObject => single_object(&body)?,
            // Postgres built the CSV itself (see `SelectBuilder::rows_body`).
            MediaType::Csv => body,
        };
        self.body = Some((media, body));
        Ok(self)
    }

    pub fn into_response(self) -> axum::response::Response {
        let mut builder = Response::builder().status(self.status);
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                builder = builder.header(*name, v);
            }
        }
        let body = match self.body {
            Some((media, body)) => {
                builder = builder.header(header::CONTENT_TYPE, media.content_type());
                Body::from(body)
            }
            None => Body::empty(),
        };
        builder.body(body).unwrap_or_else(|e| {
            axum::response::IntoResponse::into_response(ApiError::internal(
                "building a response",
                e,
            ))
        })
    }
}

/// `Content-Range` for a read: `0-9/100`, `0-9/*`, or `*/0` when nothing is in range.
pub fn content_range(offset: i64, rows: i64, total: Option<i64>) -> String {
    let total_text = total.map_or("*".to_owned(), |t| t.to_string());
    if rows > 0 && total != Some(0) {
        format!("{offset}-{}/{total_text}", offset.saturating_add(rows - 1))
    } else {
        format!("*/{total_text}")
    }
}

/// PostgREST's read status: 416 past the end, 206 when only part of the total is returned.
pub fn range_status(offset: i64, rows: i64, total: Option<i64>) -> Result<StatusCode, ApiError> {
    match total {
        Some(total) if offset > total => Err(ApiError::range_not_satisfiable(&format!(
            "An offset of {offset} was requested, but there are only {total} rows."
        ))),
        Some(total) if rows < total => Ok(StatusCode::PARTIAL_CONTENT),
        _ => Ok(StatusCode::OK),
    }
}

/// The one element of the JSON array the statement built (the caller has checked that
/// there is exactly one). Cut from the text, not re-serialised, so key order is kept.
fn single_object(body: &str) -> Result<String, ApiError> {
    let trimmed = body.trim();
    match trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) if inner.trim().is_empty() => Err(ApiError::singular(0)),
        Some(inner) => Ok(inner.trim().to_owned()),
        None => Ok(trimmed.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(content_range(0, 10, Some(100)), "0-9/100");
        assert_eq!(content_range(0, 3, None), "0-2/*");
        assert_eq!(content_range(0, 0, Some(0)), "*/0");
        assert_eq!(content_range(5, 0, None), "*/*");
        assert_eq!(range_status(0, 10, Some(100)).unwrap(), 206);
        assert_eq!(range_status(0, 10, Some(10)).unwrap(), 200);
        assert_eq!(range_status(0, 0, Some(0)).unwrap(), 200);
        assert_eq!(range_status(20, 0, Some(10)).unwrap_err().status, 416);
    }

    #[test]
    fn media_shapes() {
        assert_eq!(
            single_object("[{\"b\":1,\"a\":2}]").unwrap(),
            "{\"b\":1,\"a\":2}"
        );
        assert_eq!(single_object("[]").unwrap_err().status, 406);
    }
}
