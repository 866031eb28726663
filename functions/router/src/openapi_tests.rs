//! `docs/openapi.json` against the code: every function the router serves has its paths there,
//! with exactly the methods its `FunctionSpec` allows, and nothing else is described.
//! (What the operations answer is checked against the running Workers by
//! `tests/openapi.test.mjs`.)

use std::collections::BTreeSet;

use edge_worker::FunctionSpec;
use serde_json::Value;

use crate::FUNCTIONS;

/// The specs of the functions the router serves.
fn specs() -> impl Iterator<Item = &'static FunctionSpec> {
    FUNCTIONS.iter().map(|function| function.spec)
}

/// The HTTP methods an OpenAPI path item may hold.
const OPERATIONS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let text = std::fs::read_to_string(path).expect("docs/openapi.json is readable");
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

/// The function a described path belongs to: its first segment.
fn function_of(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

fn described_methods(doc: &Value, function: &str) -> BTreeSet<String> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .filter(|(path, _)| function_of(path) == function)
        .flat_map(|(_, item)| item.as_object().expect("a path item is an object").keys())
        .filter(|key| OPERATIONS.contains(&key.as_str()))
        .map(|method| method.to_uppercase())
        .collect()
}

#[test]
fn every_function_is_described_with_exactly_its_methods() {
    let doc = document();
    for spec in specs() {
        let allowed: BTreeSet<String> = spec.methods.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            described_methods(&doc, spec.name),
            allowed,
            "the methods docs/openapi.json describes for {} differ from its FunctionSpec",
            spec.name
        );
    }
}

#[test]
fn nothing_else_is_described() {
    let doc = document();
    let names: BTreeSet<&str> = specs().map(|s| s.name).collect();
    for path in doc["paths"].as_object().expect("paths is an object").keys() {
        assert!(
            names.contains(function_of(path)),
            "docs/openapi.json describes {path}, which no function serves"
        );
    }
}

#[test]
fn every_operation_has_a_unique_id_and_documents_its_errors_as_json() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for (method, operation) in item.as_object().expect("a path item is an object") {
            if !OPERATIONS.contains(&method.as_str()) {
                continue;
            }
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId {id:?} is missing or repeated"
            );
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} documents no success"
            );
        }
    }
}
