//! A step as the driver reads it: one string per crossing, its first letter the kind, a JSON
//! head up to the first newline (JSON text has no raw newline), then a raw tail.
//!
//! | kind | head | tail |
//! | --- | --- | --- |
//! | `F` fetch | `{"m": method, "u": url, "h": {headers}, "t": timeout ms, "b": has body}` | the body |
//! | `B` body | the limit in bytes | |
//! | `I` import ES256 key | the key's number | the point, hex |
//! | `V` verify ES256 | the key's number | the signature, hex, `\n`, the signed data |
//! | `W` wait | | |
//! | `A` answer | `{"s": status, "h": {headers}, "b": has body, "a": work after}` | the body |
//! | `D` done after the answer | | |
//!
//! Every step also carries the log lines since the last one: `L` + JSON array + `\n` before it.

use std::fmt::Write;

use edge_step::{Need, Progress};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::flow::Reply;
use crate::log::take_lines;

fn with_logs(step: String) -> String {
    let lines = take_lines();
    if lines.is_empty() {
        return step;
    }
    let mut text = format!("L{}\n", Value::from(lines));
    text.push_str(&step);
    text
}

fn headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Map<String, Value> {
    headers
        .into_iter()
        .map(|(n, v)| (n.to_owned(), Value::from(v)))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[derive(Serialize)]
struct FetchHead<'a> {
    m: &'a str,
    u: &'a str,
    h: Map<String, Value>,
    t: u32,
    b: bool,
}

#[derive(Serialize)]
struct AnswerHead {
    s: u16,
    h: Map<String, Value>,
    b: bool,
    a: bool,
}

pub fn progress<T>(progress: Progress<T>) -> String {
    with_logs(match progress {
        Progress::Needs(Need::Fetch(sub)) => {
            let head = FetchHead {
                m: &sub.method,
                u: &sub.url,
                h: headers(sub.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
                t: sub.timeout_ms,
                b: sub.body.is_some(),
            };
            let head = serde_json::to_string(&head).unwrap_or_default();
            format!("F{head}\n{}", sub.body.unwrap_or_default())
        }
        Progress::Needs(Need::Body { limit }) => format!("B{limit}"),
        Progress::Needs(Need::ImportEs256 { key, point }) => format!("I{key}\n{}", hex(&point)),
        Progress::Needs(Need::VerifyEs256 {
            key,
            signature,
            data,
        }) => format!(
            "V{key}\n{}\n{}",
            hex(&signature),
            String::from_utf8_lossy(&data)
        ),
        Progress::Waiting | Progress::Done(_) => "W".to_owned(),
    })
}

pub fn answer(reply: &Reply, after: bool) -> String {
    let head = AnswerHead {
        s: reply.status,
        h: headers(reply.headers.iter().map(|(n, v)| (*n, v.as_str()))),
        b: reply.body.is_some(),
        a: after,
    };
    let head = serde_json::to_string(&head).unwrap_or_default();
    with_logs(format!(
        "A{head}\n{}",
        reply.body.as_deref().unwrap_or_default()
    ))
}

pub fn finished() -> String {
    with_logs("D".to_owned())
}
