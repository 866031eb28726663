//! process-webhook's request body: `{task_id, status, mask_url?, labels?, metadata?,
//! credits_used?, error?}`, parsed and validated as the handler does before the database is
//! touched.
//!
//! Properties: any body is answered without panicking, with a 400 when refused; an accepted
//! delivery is within every documented bound and is something the `segmentation_results`
//! columns and `jsonb` will take (so the database never refuses what validation let through,
//! which would turn a permanent problem into a 500 that senders retry).
#![no_main]

use edge_fuzz::{pg_http_url_prefix_ok, pg_jsonb_ok, pg_text_ok};
use libfuzzer_sys::fuzz_target;
use process_webhook::{ReportedStatus, parse_webhook};
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let webhook = match parse_webhook(body) {
        Ok(webhook) => webhook,
        Err(e) => {
            assert_eq!(e.status(), 400, "{e:?}");
            assert!(
                e.code() == "invalid_json" || e.code().starts_with("invalid_"),
                "{e:?}"
            );
            return;
        }
    };
    if let Some(url) = &webhook.mask_url {
        assert!(url.chars().count() <= 2048, "mask_url too long");
        assert!(
            pg_http_url_prefix_ok(url),
            "mask_url {url:?} fails ~ '^https?://'"
        );
        assert!(pg_text_ok(url), "mask_url holds U+0000");
    }
    if let Some(labels) = &webhook.labels {
        assert!(labels.len() <= 1000);
        assert!(
            pg_jsonb_ok(&Value::Array(labels.clone())),
            "labels hold U+0000"
        );
    }
    if let Some(metadata) = &webhook.metadata {
        assert!(metadata.len() <= 100);
        assert!(
            pg_jsonb_ok(&Value::Object(metadata.clone())),
            "metadata holds U+0000"
        );
    }
    if let Some(credits) = webhook.credits_used {
        assert!((0..=1000).contains(&credits) && webhook.status == ReportedStatus::Done);
    }
    if let Some(error) = &webhook.error {
        assert!(error.chars().count() <= 2000 && webhook.status == ReportedStatus::Error);
        assert!(pg_text_ok(error), "error holds U+0000");
    }
});
