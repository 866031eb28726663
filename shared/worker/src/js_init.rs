//! The `init` objects of `new Response(body, init)` and `fetch(url, init)`, built in one crossing
//! into JS: serialised here, `JSON.parse`d there. Setting each field and header through
//! wasm-bindgen instead costs a crossing (and a string decoding) apiece.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use worker::js_sys::JSON;
use worker::wasm_bindgen::{JsCast, JsValue};

/// `value` as a JS object of type `T`.
pub(crate) fn parsed<T: JsCast>(value: &impl Serialize) -> Result<T, JsValue> {
    let json = serde_json::to_string(value).map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(JSON::parse(&json)?.unchecked_into())
}

/// Headers as a JSON object (a record, which the runtime reads faster than a list of pairs);
/// a name given twice gets both values joined with `, `, as `Headers.append` would.
pub(crate) struct HeaderRecord<'a, N, V>(pub &'a [(N, V)]);

impl<N: AsRef<str>, V: AsRef<str>> Serialize for HeaderRecord<'_, N, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut merged: Vec<(&str, Cow<str>)> = Vec::with_capacity(self.0.len());
        for (name, value) in self.0 {
            let (name, value) = (name.as_ref(), value.as_ref());
            match merged
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                Some((_, joined)) => {
                    let joined = joined.to_mut();
                    joined.push_str(", ");
                    joined.push_str(value);
                }
                None => merged.push((name, Cow::Borrowed(value))),
            }
        }
        serializer.collect_map(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderRecord;

    #[test]
    fn headers_are_a_record_with_a_repeated_name_joined_as_append_does() {
        let headers = [
            ("content-type", "application/json"),
            ("Prefer", "return=representation"),
            ("prefer", "count=exact"),
        ];
        assert_eq!(
            serde_json::to_string(&HeaderRecord(&headers)).unwrap(),
            r#"{"content-type":"application/json","Prefer":"return=representation, count=exact"}"#
        );
    }
}
