//! Time per seal and open of a connection secret (AES-256-GCM envelope bound to owner, row and
//! field), and per Standard Webhooks signature check.
//!
//! `cargo bench -p edge-crypto`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use edge_crypto::{Aad, KeyRing, WebhookHeaders, WebhookSecret, WebhookVerifier};
use uuid::Uuid;

const RING: &str = "v1;active=k2;k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8;\
                    k2=ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";
/// A legacy service_role key has this shape and length (about 220 characters).
const SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
const SECRETS: &str =
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_c2Vjb25kLXNlY3JldC1mb3ItYmVuY2g=";
const NOW: i64 = 1_700_000_000;

fn bench_envelope(c: &mut Criterion) {
    let ring = KeyRing::parse(RING).unwrap();
    let aad = Aad {
        owner: Uuid::from_u128(0x6f1c3c1e_3a53_4a0e_9a43_0e0a8f6a2b11),
        row: "shop",
        field: "service_role_key",
    };
    let envelope = ring.seal_str(SERVICE_ROLE_KEY, aad).unwrap();

    c.bench_function("seal a service_role key", |b| {
        b.iter(|| ring.seal_str(black_box(SERVICE_ROLE_KEY), aad).unwrap())
    });
    c.bench_function("open a service_role key", |b| {
        b.iter(|| ring.open_str(black_box(&envelope), aad).unwrap())
    });
    let other = Aad {
        field: "anon_key",
        ..aad
    };
    c.bench_function("refuse an envelope bound to another field", |b| {
        b.iter(|| ring.open_str(black_box(&envelope), other).unwrap_err())
    });
    c.bench_function("parse the key ring", |b| {
        b.iter(|| KeyRing::parse(black_box(RING)).unwrap())
    });
}

fn bench_webhook(c: &mut Criterion) {
    let verifier = WebhookVerifier::from_secret_list(SECRETS).unwrap();
    // Signed with the second secret: the verifier computes the MAC under both, as it always does.
    let secret = WebhookSecret::parse(SECRETS.split(' ').nth(1).unwrap()).unwrap();
    let id = "msg_2mN9qf3kL8xYz1";
    let timestamp = NOW.to_string();

    let mut group = c.benchmark_group("verify a webhook signature (2 secrets)");
    for size in [512usize, 16 * 1024, 256 * 1024] {
        let body = vec![b'x'; size];
        let signature = secret.sign(id, NOW, &body);
        let headers = WebhookHeaders {
            id: Some(id),
            timestamp: Some(&timestamp),
            signature: Some(&signature),
        };
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| verifier.verify(headers, black_box(body), NOW).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_envelope, bench_webhook);
criterion_main!(benches);
