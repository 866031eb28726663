//! tenant-proxy's request parsing: the Worker's URL path is cut to the function's sub-path
//! (`edge_worker::sub_path`) and split into connection name and PostgREST path
//! (`ProxyPath::parse`), and the tenant's URL is made from it as the handler makes it.
//!
//! Properties: any path and query are handled without panicking, refusals are 404s (not under
//! `/rest/v1`) or 400 `unsafe_path` (a segment that decodes to `/`, `\`, `.` or a control
//! character), an accepted path has no such segment, and an
//! accepted request always lands under `/rest/v1` on the tenant's own host, once the runtime's
//! URL parser (the same WHATWG rules as the `url` crate) has resolved dot segments and
//! backslashes: nothing of the caller's can reach the tenant's Auth, Storage or another host.
#![no_main]

use edge_worker::sub_path;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use tenant_proxy::{ProxyPath, tenant_auth_headers};
use url::Url;

const TENANT: &str = "https://tenant.example.com";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = tenant_auth_headers(&text);
    let (raw_path, raw_query) = text.split_once('?').unwrap_or((&text, ""));
    // The path as the Worker sees it: parsed by the runtime first.
    let Ok(request_url) = Url::parse(&format!(
        "https://edge.example.com/functions/v1/tenant-proxy/{raw_path}?{raw_query}"
    )) else {
        return;
    };
    let path = request_url.path();
    let target = match ProxyPath::parse(sub_path(path, "tenant-proxy")) {
        Ok(target) => target,
        Err(e) => {
            assert!(
                e.status() == 404 || (e.status() == 400 && e.code() == "unsafe_path"),
                "{e:?}"
            );
            return;
        }
    };
    assert!(!target.connection.is_empty() && !target.connection.contains('/'));
    assert!(target.rest_path == "/rest/v1" || target.rest_path.starts_with("/rest/v1/"));
    let decoded = percent_decode_str(target.rest_path).decode_utf8_lossy();
    assert!(
        !decoded.contains(['\\', '.']) && !decoded.chars().any(char::is_control),
        "{decoded}"
    );

    let upstream = match request_url.query() {
        Some(query) => format!("{TENANT}{}?{query}", target.rest_path),
        None => format!("{TENANT}{}", target.rest_path),
    };
    let upstream = Url::parse(&upstream).expect("the tenant URL parses");
    assert_eq!(
        upstream.origin().ascii_serialization(),
        TENANT,
        "{upstream}"
    );
    let upstream_path = upstream.path();
    assert!(
        upstream_path == "/rest/v1" || upstream_path.starts_with("/rest/v1/"),
        "{path} reached {upstream_path}"
    );
});
