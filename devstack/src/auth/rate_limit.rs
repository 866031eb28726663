//! GoTrue's rate limits (its apilimiter.go), at the Supabase CLI's local defaults
//! (`[auth.rate_limit]`), set by `devstack start --auth-rate-limit-*` as the CLI sets them from
//! its config:
//!
//! - per client, token buckets of 30 refilled at `rate` per 5 minutes: `/verify`
//!   (`token_verifications`), the served grants of `/token` (`token_refresh`), and, each with a
//!   bucket of its own at `sign_in_sign_ups` (GoTrue's `GOTRUE_RATE_LIMIT_OTP`), e-mail
//!   sign-ups, `/otp`, `/recover`, `/resend` and `PUT /user`;
//! - per client, anonymous sign-ins: `anonymous_users` an hour, all of them at once;
//! - per client, MFA challenges and verifications: `GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY`
//!   (15) a minute, buckets of 30 (the CLI has no key for it);
//! - for the whole project, mails sent while confirmations are on: `email_sent` an hour
//!   (GoTrue's interval limiter; the CLI sets 360000 when its mail catcher takes the mail).
//!
//! Over a per-client limit: `429 over_request_rate_limit`; over the mail limit:
//! `429 over_email_send_rate_limit`. A client is the value of the `GOTRUE_RATE_LIMIT_HEADER`
//! request header when that is set (as behind the hosted platform's proxy), else the
//! connection's peer address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{AuthError, AuthResult};

/// GoTrue's bucket size for the per-client limits given per 5 minutes (and MFA's).
const BURST: f64 = 30.0;
const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);
/// Past this many tracked clients, those whose bucket has refilled are forgotten.
const PRUNE_AT: usize = 10_000;
/// GoTrue's default `GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY` (per minute).
const MFA_DEFAULT: f64 = 15.0;

/// The CLI's local defaults of `[auth.rate_limit]`, for the flags and for [`RateLimits::default`].
const EMAIL_SENT_DEFAULT: u32 = 360_000;
const SIGN_IN_SIGN_UPS_DEFAULT: u32 = 30;
const TOKEN_REFRESH_DEFAULT: u32 = 150;
const TOKEN_VERIFICATIONS_DEFAULT: u32 = 30;
const ANONYMOUS_USERS_DEFAULT: u32 = 30;

/// `[auth.rate_limit]` of the Supabase CLI's config, as `devstack start` flags (each also read
/// from the GoTrue variable the CLI sets from it).
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Mails Auth sends an hour while e-mail confirmations are on, for the whole project (the
    /// CLI's `email_sent`; it passes 360000 while its mail catcher takes the mail).
    #[arg(long, env = "GOTRUE_RATE_LIMIT_EMAIL_SENT", default_value_t = EMAIL_SENT_DEFAULT)]
    pub auth_rate_limit_email_sent: u32,
    /// E-mail sign-ups, `/otp`, `/recover`, `/resend` and `PUT /user` per 5 minutes per client
    /// (bursts of 30; the CLI's `sign_in_sign_ups`).
    #[arg(long, env = "GOTRUE_RATE_LIMIT_OTP", default_value_t = SIGN_IN_SIGN_UPS_DEFAULT)]
    pub auth_rate_limit_sign_in_sign_ups: u32,
    /// Password, refresh-token and PKCE grants per 5 minutes per client (bursts of 30; the
    /// CLI's `token_refresh`).
    #[arg(long, env = "GOTRUE_RATE_LIMIT_TOKEN_REFRESH", default_value_t = TOKEN_REFRESH_DEFAULT)]
    pub auth_rate_limit_token_refresh: u32,
    /// `/verify` requests per 5 minutes per client (bursts of 30; the CLI's
    /// `token_verifications`).
    #[arg(long, env = "GOTRUE_RATE_LIMIT_VERIFY", default_value_t = TOKEN_VERIFICATIONS_DEFAULT)]
    pub auth_rate_limit_token_verifications: u32,
    /// Anonymous sign-ins an hour per client (the CLI's `anonymous_users`).
    #[arg(long, env = "GOTRUE_RATE_LIMIT_ANONYMOUS_USERS", default_value_t = ANONYMOUS_USERS_DEFAULT)]
    pub auth_rate_limit_anonymous_users: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            auth_rate_limit_email_sent: EMAIL_SENT_DEFAULT,
            auth_rate_limit_sign_in_sign_ups: SIGN_IN_SIGN_UPS_DEFAULT,
            auth_rate_limit_token_refresh: TOKEN_REFRESH_DEFAULT,
            auth_rate_limit_token_verifications: TOKEN_VERIFICATIONS_DEFAULT,
            auth_rate_limit_anonymous_users: ANONYMOUS_USERS_DEFAULT,
        }
    }
}

/// One per-client limit: a token bucket per client.
#[derive(Clone)]
pub struct Limiter {
    per_second: f64,
    burst: f64,
    key_header: Option<Arc<str>>,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    fn new(rate: f64, per: Duration, burst: f64, key_header: Option<Arc<str>>) -> Self {
        Self {
            per_second: rate / per.as_secs_f64(),
            burst,
            key_header,
            buckets: Arc::default(),
        }
    }

    /// Takes one request's token from `client`'s bucket; false when it is empty.
    fn admit(&self, client: &str, now: Instant) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_AT {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.refilled(per_second, burst, now) < burst);
        }
        let bucket = buckets.entry(client.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = bucket.refilled(self.per_second, self.burst, now);
        let admitted = tokens >= 1.0;
        *bucket = Bucket {
            tokens: if admitted { tokens - 1.0 } else { tokens },
            at: now,
        };
        admitted
    }

    /// Who sent a request; none when the configured header is missing (GoTrue then does not
    /// limit it, and logs so).
    fn client_of(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<String> {
        if let Some(header) = &self.key_header {
            // GoTrue takes the first of comma-separated values.
            let client = headers
                .get(&**header)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty());
            if client.is_none() {
                tracing::warn!("request without {header}: rate limiting is not applied");
            }
            return client.map(str::to_owned);
        }
        peer.map(|peer| peer.ip().to_string())
    }

    /// Whether a request from `peer` with `headers` may go on; else GoTrue's 429.
    pub fn check(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> AuthResult<()> {
        let admitted = self
            .client_of(headers, peer)
            .is_none_or(|client| self.admit(&client, Instant::now()));
        if admitted {
            Ok(())
        } else {
            Err(AuthError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "over_request_rate_limit",
                "Request rate limit reached",
            ))
        }
    }

    fn admits(&self, request: &Request) -> AuthResult<()> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        self.check(request.headers(), peer)
    }
}

impl Bucket {
    fn refilled(self, per_second: f64, burst: f64, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + elapsed * per_second).min(burst)
    }
}

/// GoTrue's `IntervalLimiter`: so many events per interval, the count reset when an interval
/// ends; one for the whole project.
#[derive(Clone)]
pub struct IntervalLimiter {
    events: u32,
    interval: Duration,
    state: Arc<Mutex<(Instant, u32)>>,
}

impl IntervalLimiter {
    fn new(events: u32, interval: Duration) -> Self {
        Self {
            events,
            interval,
            state: Arc::new(Mutex::new((Instant::now(), 0))),
        }
    }

    fn allow_at(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (last, count) = &mut *state;
        let passed = now.saturating_duration_since(*last).as_nanos() / self.interval.as_nanos();
        if passed > 0 {
            *last += self.interval * u32::try_from(passed).unwrap_or(u32::MAX);
            *count = 0;
        }
        if *count < self.events {
            *count += 1;
            true
        } else {
            false
        }
    }
}

/// Every limit of one project's Auth.
#[derive(Clone)]
pub struct Limiters {
    pub verify: Limiter,
    pub token: Limiter,
    pub signups: Limiter,
    pub anonymous_sign_ins: Limiter,
    pub otp: Limiter,
    pub recover: Limiter,
    pub resend: Limiter,
    pub user: Limiter,
    pub factor_challenge: Limiter,
    pub factor_verify: Limiter,
    email_sent: IntervalLimiter,
}

impl Limiters {
    /// The limits of `config`, with the client header and the MFA rate from GoTrue's
    /// environment variables.
    pub fn new(config: &RateLimits) -> Self {
        let header: Option<Arc<str>> = std::env::var("GOTRUE_RATE_LIMIT_HEADER")
            .ok()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .map(Into::into);
        let mfa = match std::env::var("GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY") {
            Err(_) => MFA_DEFAULT,
            Ok(v) => v.trim().parse().unwrap_or_else(|_| {
                tracing::warn!(
                    "GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY={v} is not a number; using {MFA_DEFAULT}"
                );
                MFA_DEFAULT
            }),
        };
        let per_5m = |rate: u32| Limiter::new(f64::from(rate), FIVE_MINUTES, BURST, header.clone());
        let otp = config.auth_rate_limit_sign_in_sign_ups;
        let anonymous = f64::from(config.auth_rate_limit_anonymous_users);
        Self {
            verify: per_5m(config.auth_rate_limit_token_verifications),
            token: per_5m(config.auth_rate_limit_token_refresh),
            signups: per_5m(otp),
            anonymous_sign_ins: Limiter::new(anonymous, HOUR, anonymous, header.clone()),
            otp: per_5m(otp),
            recover: per_5m(otp),
            resend: per_5m(otp),
            user: per_5m(otp),
            factor_challenge: Limiter::new(mfa, Duration::from_secs(60), BURST, header.clone()),
            factor_verify: Limiter::new(mfa, Duration::from_secs(60), BURST, header),
            email_sent: IntervalLimiter::new(config.auth_rate_limit_email_sent, HOUR),
        }
    }

    /// GoTrue's check before it sends a mail: only while confirmations are on (`autoconfirm`
    /// off), as GoTrue still does; over it, `429 over_email_send_rate_limit`.
    pub fn check_email_sent(&self, autoconfirm: bool) -> AuthResult<()> {
        if autoconfirm || self.email_sent.allow_at(Instant::now()) {
            return Ok(());
        }
        Err(AuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "over_email_send_rate_limit",
            "email rate limit exceeded",
        ))
    }
}

/// The middleware for a route every request of which counts (`/verify`).
pub async fn limit(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    if let Err(e) = limiter.admits(&request) {
        return e.into_response();
    }
    next.run(request).await
}

/// The middleware for `/token`: GoTrue counts the grants it serves, after refusing an unknown
/// `grant_type`.
pub async fn limit_token_grants(
    State(limiter): State<Limiter>,
    request: Request,
    next: Next,
) -> Response {
    let served_grant = request.uri().query().is_some_and(|query| {
        url_query_grant(query).is_some_and(|g| matches!(g, "password" | "refresh_token" | "pkce"))
    });
    if served_grant && let Err(e) = limiter.admits(&request) {
        return e.into_response();
    }
    next.run(request).await
}

fn url_query_grant(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("grant_type="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_thirty_then_one_per_refill_interval() {
        let limiter = Limiter::new(30.0, FIVE_MINUTES, BURST, None);
        let start = Instant::now();
        for _ in 0..30 {
            assert!(limiter.admit("1.2.3.4", start));
        }
        assert!(!limiter.admit("1.2.3.4", start));
        assert!(
            limiter.admit("5.6.7.8", start),
            "another client has its own"
        );
        // 30 per 5 minutes: one more every 10 seconds.
        assert!(!limiter.admit("1.2.3.4", start + Duration::from_secs(9)));
        assert!(limiter.admit("1.2.3.4", start + Duration::from_secs(10)));
        assert!(!limiter.admit("1.2.3.4", start + Duration::from_secs(10)));
        assert!(limiter.admit("1.2.3.4", start + FIVE_MINUTES));
    }

    #[test]
    fn anonymous_sign_ins_burst_their_hourly_rate() {
        let limiter = Limiter::new(3.0, HOUR, 3.0, None);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.admit("a", start)));
        assert!(!limiter.admit("a", start));
        assert!(!limiter.admit("a", start + Duration::from_secs(1199)));
        assert!(limiter.admit("a", start + Duration::from_secs(1200)));
    }

    #[test]
    fn the_mail_limit_is_counted_per_interval() {
        let limiter = IntervalLimiter::new(2, HOUR);
        let start = *limiter.state.lock().unwrap();
        let at = |secs| start.0 + Duration::from_secs(secs);
        assert!(limiter.allow_at(at(0)));
        assert!(limiter.allow_at(at(10)));
        assert!(!limiter.allow_at(at(3599)));
        assert!(limiter.allow_at(at(3600)), "a new interval starts afresh");
        assert!(limiter.allow_at(at(3700)));
        assert!(!limiter.allow_at(at(3800)));
    }

    #[test]
    fn the_client_header_takes_the_first_value() {
        let limiter = Limiter::new(30.0, FIVE_MINUTES, BURST, Some("x-client".into()));
        let mut headers = HeaderMap::new();
        assert_eq!(limiter.client_of(&headers, None), None);
        headers.insert("x-client", " a, b".parse().unwrap());
        assert_eq!(limiter.client_of(&headers, None).as_deref(), Some("a"));
    }

    #[test]
    fn the_grant_type_is_read_from_the_query() {
        assert_eq!(url_query_grant("grant_type=password"), Some("password"));
        assert_eq!(url_query_grant("a=1&grant_type=pkce"), Some("pkce"));
        assert_eq!(url_query_grant("a=1"), None);
    }
}
