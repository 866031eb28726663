//! Request bodies: size limits (413) and JSON parsing with messages that say what is wrong (400).

use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::ApiError;

/// The largest body a function accepts, checked twice: against `Content-Length` before
/// reading (cheap refusal), and against the bytes as they are read ([`LimitedBody`]: the header
/// may be absent with chunked encoding, or lie).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(usize);

impl BodyLimit {
    /// A limit of `max_bytes`.
    pub const fn new(max_bytes: usize) -> Self {
        Self(max_bytes)
    }

    /// The limit in bytes (for a driver that reads the body itself, edge-step's `Need::Body`).
    pub const fn bytes(self) -> usize {
        self.0
    }

    /// Checks the `Content-Length` header value (`None` when absent: fine, the real length is
    /// counted while reading).
    pub fn check_declared(self, content_length: Option<&str>) -> Result<(), ApiError> {
        let Some(value) = content_length else {
            return Ok(());
        };
        let declared: u64 = value.trim().parse().map_err(|_| {
            ApiError::bad_request("invalid_content_length", "Content-Length is not a number")
        })?;
        if declared > self.0 as u64 {
            return Err(ApiError::payload_too_large(self.0));
        }
        Ok(())
    }
}

/// A body collected chunk by chunk as its stream is read, never past its limit: a chunk that
/// would take it over is refused before it is copied (413), and the reader then cancels the
/// stream, so a refused body costs at most the limit in memory however large it is.
#[derive(Debug)]
pub struct LimitedBody {
    limit: BodyLimit,
    bytes: Vec<u8>,
}

impl LimitedBody {
    pub fn new(limit: BodyLimit) -> Self {
        Self {
            limit,
            bytes: Vec::new(),
        }
    }

    /// Adds a chunk of `len` bytes, which `copy` writes into the slice it is given; 413 (and
    /// nothing copied) when the body would pass the limit.
    pub fn push_with(&mut self, len: usize, copy: impl FnOnce(&mut [u8])) -> Result<(), ApiError> {
        let start = self.bytes.len();
        if len > self.limit.0 - start {
            return Err(ApiError::payload_too_large(self.limit.0));
        }
        self.bytes.resize(start + len, 0);
        copy(&mut self.bytes[start..]);
        Ok(())
    }

    /// Adds a chunk already in memory (as [`Self::push_with`]).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.push_with(chunk.len(), |to| to.copy_from_slice(chunk))
    }

    /// The whole body, within the limit.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Parses a JSON body into `T`, or answers 400 naming the problem:
///
/// * `invalid_json` — not JSON, with line and column (`invalid JSON at line 1 column 9: …`);
/// * `invalid_body` — JSON of the wrong shape, naming the field:
///   ``missing field `name` ``, ``field `allow_writes`: invalid type: string "yes", expected a
///   boolean``, ``unknown field `x`, expected one of …`` (for types with
///   `#[serde(deny_unknown_fields)]`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "request body is empty; expected JSON",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    deserializer.end().map_err(|err| syntax_error(&err))?;
    Ok(value)
}

/// [`parse_json`] for request bodies that must be a JSON object. serde reads a struct from a
/// JSON array of the right length too; an API whose bodies are objects refuses arrays and
/// scalars with `invalid_body` instead.
pub fn parse_json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => parse_json(body),
        Some(_) => {
            // Still report malformed JSON as such, with its position.
            parse_json::<serde::de::IgnoredAny>(body)?;
            Err(ApiError::bad_request(
                "invalid_body",
                "request body must be a JSON object",
            ))
        }
    }
}

fn describe(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    match inner.classify() {
        Category::Data => {
            let message = without_position(&inner);
            let message = if path.is_empty() || path == "." || message.starts_with("unknown field")
            {
                message
            } else {
                format!("field `{path}`: {message}")
            };
            ApiError::bad_request("invalid_body", message)
        }
        Category::Syntax | Category::Eof | Category::Io => syntax_error(&inner),
    }
}

fn syntax_error(err: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "invalid_json",
        format!(
            "invalid JSON at line {} column {}: {}",
            err.line(),
            err.column(),
            without_position(err)
        ),
    )
}

/// serde_json's message without its " at line L column C" suffix.
fn without_position(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_owned()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // fields exist to be deserialized
    struct Connection {
        name: String,
        allow_writes: Option<bool>,
        labels: Option<Vec<String>>,
    }

    fn error_of(body: &str) -> (String, String) {
        let err = parse_json::<Connection>(body.as_bytes()).unwrap_err();
        assert_eq!(err.status(), 400);
        (err.code().to_owned(), err.message().to_owned())
    }

    #[test]
    fn parses_valid_bodies() {
        let c: Connection = parse_json(br#" {"name": "prod", "labels": ["a"]} "#).unwrap();
        assert_eq!(c.name, "prod");
    }

    #[test]
    fn names_the_problem() {
        let cases = [
            ("", "invalid_json", "request body is empty; expected JSON"),
            (
                "{\"name\": ",
                "invalid_json",
                "invalid JSON at line 1 column 9: EOF while parsing a value",
            ),
            (
                "{\n\"name\": x}",
                "invalid_json",
                "invalid JSON at line 2 column 9: expected value",
            ),
            (
                r#"{"name": "a"} extra"#,
                "invalid_json",
                "invalid JSON at line 1 column 15: trailing characters",
            ),
            ("{}", "invalid_body", "missing field `name`"),
            (
                r#"{"name": 5}"#,
                "invalid_body",
                "field `name`: invalid type: integer `5`, expected a string",
            ),
            (
                r#"{"name": "a", "allow_writes": "yes"}"#,
                "invalid_body",
                "field `allow_writes`: invalid type: string \"yes\", expected a boolean",
            ),
            (
                r#"{"name": "a", "labels": ["x", 2]}"#,
                "invalid_body",
                "field `labels[1]`: invalid type: integer `2`, expected a string",
            ),
            (
                r#"{"name": "a", "admin": true}"#,
                "invalid_body",
                "unknown field `admin`, expected one of `name`, `allow_writes`, `labels`",
            ),
            (
                r#""prod""#,
                "invalid_body",
                "invalid type: string \"prod\", expected struct Connection",
            ),
        ];
        for (body, code, message) in cases {
            assert_eq!(
                error_of(body),
                (code.to_owned(), message.to_owned()),
                "{body}"
            );
        }
    }

    #[test]
    fn body_limits() {
        let limit = BodyLimit::new(10);
        assert!(limit.check_declared(None).is_ok());
        assert!(limit.check_declared(Some("10")).is_ok());
        assert_eq!(limit.check_declared(Some("11")).unwrap_err().status(), 413);
        assert_eq!(
            limit
                .check_declared(Some("99999999999999999999"))
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            limit.check_declared(Some("-1")).unwrap_err().code(),
            "invalid_content_length"
        );
    }

    #[test]
    fn a_limited_body_takes_chunks_up_to_the_limit_and_refuses_the_one_past_it() {
        let mut body = LimitedBody::new(BodyLimit::new(10));
        body.push(b"hello").unwrap();
        body.push(b"").unwrap();
        body.push(b"world").unwrap();
        let err = body.push(b"!").unwrap_err();
        assert_eq!((err.status(), err.code()), (413, "payload_too_large"));
        assert_eq!(body.into_bytes(), b"helloworld");

        // A chunk that would pass the limit is never copied, however large it says it is.
        let mut body = LimitedBody::new(BodyLimit::new(10));
        body.push(b"abc").unwrap();
        let mut copied = false;
        let err = body.push_with(usize::MAX, |_| copied = true).unwrap_err();
        assert_eq!(err.status(), 413);
        assert!(!copied);
        assert_eq!(body.into_bytes(), b"abc");
    }

    #[test]
    fn object_bodies_refuse_arrays_and_scalars() {
        let ok: Connection = parse_json_object(br#" {"name": "a"}"#).unwrap();
        assert_eq!(ok.name, "a");
        for body in [&br#"["a", true, null]"#[..], b"42", br#""a""#, b"null"] {
            let err = parse_json_object::<Connection>(body).unwrap_err();
            assert_eq!(
                (err.status(), err.code()),
                (400, "invalid_body"),
                "{body:?}"
            );
        }
        let err = parse_json_object::<Connection>(b"[1,").unwrap_err();
        assert_eq!(
            err.code(),
            "invalid_json",
            "malformed JSON is still reported as such"
        );
        // serde on its own would read a struct from an array of the right length.
        assert!(parse_json::<Connection>(br#"["a", true, null]"#).is_ok());
    }
}
