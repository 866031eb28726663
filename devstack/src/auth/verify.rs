//! `GET /verify` (a mailed link: redirects with the session, or the error, in the fragment) and
//! `POST /verify` (`verifyOtp`: `token_hash`, or the e-mail and the code), as GoTrue's verify.go.
//! Any use clears the token, so a link or code works once; tokens expire after `mailer_otp_exp`.
//! A PKCE flow's link (`pkce_` token) redirects with `?code=` for `grant_type=pkce` instead.

use axum::Json;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::mail_token::TokenSlot;
use super::otp;
use super::password;
use super::pkce;
use super::redirect;
use super::request::{AuthContext, parse_json, user_agent};
use super::sessions::{self, SignInMethod};
use super::tokens::SessionResponse;
use super::users;
use super::validate;

/// GoTrue's answer to the first of the two links of a secure e-mail change.
const SINGLE_CONFIRMATION_ACCEPTED: &str =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyParams {
    #[serde(rename = "type")]
    kind: String,
    token: String,
    token_hash: String,
    email: String,
    phone: String,
    redirect_to: String,
}

/// What a token is for, once `email` is resolved to the token it matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Signup,
    Invite,
    Recovery,
    MagicLink,
    EmailChange,
}

impl Purpose {
    fn parse(kind: &str) -> Option<Self> {
        Some(match kind {
            "signup" => Self::Signup,
            "invite" => Self::Invite,
            "recovery" => Self::Recovery,
            "magiclink" => Self::MagicLink,
            "email_change" => Self::EmailChange,
            _ => return None,
        })
    }

    fn slots(self) -> &'static [TokenSlot] {
        match self {
            Self::Signup | Self::Invite => &[TokenSlot::Confirmation],
            Self::Recovery | Self::MagicLink => &[TokenSlot::Recovery],
            Self::EmailChange => &[TokenSlot::EmailChangeCurrent, TokenSlot::EmailChangeNew],
        }
    }
}

/// How a verification ends: a session, a PKCE flow's auth code, or (first half of a secure
/// e-mail change) a message.
enum Verified {
    Session(Box<SessionResponse>),
    AuthCode(String),
    FirstOfTwo,
}

fn invalid_link() -> AuthError {
    AuthError::forbidden("otp_expired", "Email link is invalid or has expired")
}

fn invalid_code() -> AuthError {
    AuthError::forbidden("otp_expired", "Token has expired or is invalid")
}

pub async fn verify_get(
    ctx: AuthContext,
    headers: HeaderMap,
    Query(params): Query<VerifyParams>,
) -> AuthResult<Response> {
    if params.kind.is_empty() {
        return Err(AuthError::validation("Verify requires a verification type"));
    }
    if params.token.is_empty() {
        return Err(AuthError::validation(
            "Verify requires a token or a token hash",
        ));
    }
    let redirect_to = redirect::redirect_target(&ctx.settings, Some(&params.redirect_to), &headers);
    let pkce = params.token.starts_with(pkce::PREFIX);
    let outcome = verify_hash(&ctx, &headers, &params.kind, &params.token, pkce).await;
    let location = match outcome {
        Ok((Verified::Session(session), kind)) => session_redirect(&redirect_to, &session, kind),
        Ok((Verified::AuthCode(code), _)) => with_query(&redirect_to, &[("code", &code)]),
        Ok((Verified::FirstOfTwo, _)) => {
            // GoTrue's `prepRedirectURL`: the query is re-encoded in either flow, and carries
            // the message too in a PKCE one.
            let pairs = [("message", SINGLE_CONFIRMATION_ACCEPTED)];
            let query: &[(&str, &str)] = if pkce { &pairs } else { &[] };
            fragment_redirect(&with_query(&redirect_to, query), &pairs)
        }
        Err(e) if e.status.is_server_error() => return Err(e),
        Err(e) => {
            let oauth_error = match e.status {
                StatusCode::BAD_REQUEST => "invalid_request",
                StatusCode::UNAUTHORIZED => "unauthorized_client",
                _ => "access_denied",
            };
            let pairs = [
                ("error", oauth_error),
                ("error_code", e.error_code),
                ("error_description", &e.message),
            ];
            // GoTrue's `prepErrorRedirectURL`: a PKCE flow's error is in the query too.
            let base = if pkce {
                with_query(&redirect_to, &pairs)
            } else {
                redirect_to.clone()
            };
            fragment_redirect(&base, &pairs)
        }
    };
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

pub async fn verify_post(
    ctx: AuthContext,
    headers: HeaderMap,
    body: Bytes,
) -> AuthResult<Response> {
    let params: VerifyParams = parse_json(&body)?;
    if params.kind.is_empty() {
        return Err(AuthError::validation("Verify requires a verification type"));
    }
    if params.token.is_empty() == params.token_hash.is_empty() {
        return Err(AuthError::validation(
            "Verify requires either a token or a token hash",
        ));
    }
    let outcome = if params.token_hash.is_empty() {
        if !params.phone.is_empty() && params.email.is_empty() {
            return Err(AuthError::bad_request(
                "phone_provider_disabled",
                "Unsupported phone provider",
            ));
        }
        if params.phone.is_empty() == params.email.is_empty() {
            return Err(AuthError::validation(
                "Only an email address or phone number should be provided on verify",
            ));
        }
        let email = validate::email(&params.email)
            .map_err(|_| AuthError::unprocessable("validation_failed", "Invalid email format"))?;
        verify_code(&ctx, &headers, &params.kind, &email, &params.token).await?
    } else {
        if !params.email.is_empty() || !params.phone.is_empty() || !params.redirect_to.is_empty() {
            return Err(AuthError::validation(
                "Only the token_hash and type should be provided",
            ));
        }
        verify_hash(&ctx, &headers, &params.kind, &params.token_hash, false)
            .await?
            .0
    };
    Ok(match outcome {
        Verified::Session(session) => Json(*session).into_response(),
        Verified::AuthCode(_) => unreachable!("POST /verify signs in"),
        Verified::FirstOfTwo => {
            Json(json!({"msg": SINGLE_CONFIRMATION_ACCEPTED, "code": "200"})).into_response()
        }
    })
}

/// The user row as far as verification cares, locked for the transaction.
struct Candidate {
    id: Uuid,
    email: String,
    email_change: String,
    banned_until: Option<DateTime<Utc>>,
    invited_without_password: bool,
    email_change_confirm_status: i16,
    /// `(slot, stored hash, sent at)` for every slot.
    tokens: Vec<(TokenSlot, String, Option<DateTime<Utc>>)>,
}

const ALL_SLOTS: [TokenSlot; 4] = [
    TokenSlot::Confirmation,
    TokenSlot::Recovery,
    TokenSlot::EmailChangeCurrent,
    TokenSlot::EmailChangeNew,
];

async fn load_candidate(
    tx: &Transaction<'_>,
    condition: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> AuthResult<Option<Candidate>> {
    let token_columns: Vec<String> = ALL_SLOTS
        .iter()
        .map(|s| format!("coalesce({}, ''), {}", s.token_column(), s.sent_at_column()))
        .collect();
    let sql = format!(
        "SELECT id, coalesce(email, ''), coalesce(email_change, ''), banned_until, \
             invited_at IS NOT NULL AND coalesce(encrypted_password, '') = '', \
             coalesce(email_change_confirm_status, 0)::smallint, {} \
         FROM auth.users WHERE {condition} AND aud = '{}' LIMIT 1 FOR UPDATE",
        token_columns.join(", "),
        users::AUDIENCE
    );
    let Some(row) = tx.query_opt(&sql, params).await? else {
        return Ok(None);
    };
    let tokens = ALL_SLOTS
        .iter()
        .enumerate()
        .map(|(i, slot)| (*slot, row.get(6 + 2 * i), row.get(7 + 2 * i)))
        .collect();
    Ok(Some(Candidate {
        id: row.get(0),
        email: row.get(1),
        email_change: row.get(2),
        banned_until: row.get(3),
        invited_without_password: row.get(4),
        email_change_confirm_status: row.get(5),
        tokens,
    }))
}

impl Candidate {
    /// The slot among `slots` holding `hash`, if its token is still fresh.
    fn matching_slot(
        &self,
        slots: &[TokenSlot],
        hash: &str,
        ctx: &AuthContext,
    ) -> Option<TokenSlot> {
        self.tokens
            .iter()
            .filter(|(slot, stored, _)| {
                // A PKCE flow's token is stored with its prefix; its code still verifies.
                slots.contains(slot)
                    && !stored.is_empty()
                    && (stored == hash || stored.strip_prefix(pkce::PREFIX) == Some(hash))
            })
            .find(|(_, _, sent_at)| {
                !otp::is_expired(*sent_at, ctx.settings.mailer_otp_exp, Utc::now())
            })
            .map(|(slot, _, _)| *slot)
    }

    fn is_banned(&self) -> bool {
        self.banned_until.is_some_and(|until| until > Utc::now())
    }
}

/// `type` resolved: `email` means whichever of sign-up or magic link the token is.
fn resolve(kind: &str, slot: TokenSlot) -> Option<Purpose> {
    match (kind, slot) {
        ("email", TokenSlot::Confirmation) => Some(Purpose::Signup),
        ("email", TokenSlot::Recovery) => Some(Purpose::MagicLink),
        (other, _) => Purpose::parse(other),
    }
}

fn slots_for(kind: &str) -> Option<&'static [TokenSlot]> {
    match kind {
        "email" => Some(&[TokenSlot::Confirmation, TokenSlot::Recovery]),
        other => Purpose::parse(other).map(Purpose::slots),
    }
}

/// A link's (or `token_hash`'s) verification: GoTrue's `verifyTokenHash`. `pkce`: a PKCE
/// flow's link, which ends in the flow's auth code rather than a session.
async fn verify_hash(
    ctx: &AuthContext,
    headers: &HeaderMap,
    kind: &str,
    hash: &str,
    pkce: bool,
) -> AuthResult<(Verified, &'static str)> {
    let slots =
        slots_for(kind).ok_or_else(|| AuthError::validation("Invalid email verification type"))?;
    let condition = slots
        .iter()
        .map(|s| format!("{} = $1", s.token_column()))
        .collect::<Vec<_>>()
        .join(" OR ");
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let candidate = load_candidate(&tx, &format!("$1 <> '' AND ({condition})"), &[&hash])
        .await?
        .ok_or_else(invalid_link)?;
    if candidate.is_banned() {
        return Err(AuthError::forbidden("user_banned", "User is banned"));
    }
    let slot = candidate
        .matching_slot(slots, hash, ctx)
        .ok_or_else(invalid_link)?;
    let purpose = resolve(kind, slot).ok_or_else(invalid_link)?;
    let flow = if pkce {
        Some(pkce::FlowMethod::of_verification(purpose_type(purpose)).ok_or_else(invalid_link)?)
    } else {
        None
    };
    let verified = complete(ctx, headers, &tx, &candidate, purpose, slot, flow).await?;
    tx.commit().await?;
    Ok((verified, purpose_type(purpose)))
}

/// An e-mail + code verification: GoTrue's `verifyUserAndToken`.
async fn verify_code(
    ctx: &AuthContext,
    headers: &HeaderMap,
    kind: &str,
    email: &str,
    code: &str,
) -> AuthResult<Verified> {
    let hash = otp::token_hash(email, code);
    let mut db = ctx.project.pools.admin.get().await?;
    let tx = db.transaction().await?;
    let candidate = if kind == "email_change" {
        // GoTrue's FindUserForEmailChange: a PKCE change stores its tokens `pkce_`-prefixed.
        load_candidate(
            &tx,
            "((lower(email) = lower($1) AND email_change_token_current IN ($2, $3)) \
              OR (lower(email_change) = lower($1) AND email_change_token_new IN ($2, $3)))",
            &[&email, &hash, &pkce::in_flow(&hash)],
        )
        .await?
    } else {
        load_candidate(
            &tx,
            "lower(email) = lower($1) AND is_sso_user = false",
            &[&email],
        )
        .await?
    }
    .ok_or_else(invalid_code)?;
    if candidate.is_banned() {
        return Err(AuthError::forbidden("user_banned", "User is banned"));
    }
    let slots = slots_for(kind).ok_or_else(invalid_code)?;
    let slot = candidate
        .matching_slot(slots, &hash, ctx)
        .ok_or_else(invalid_code)?;
    let purpose = resolve(kind, slot).ok_or_else(invalid_code)?;
    let verified = complete(ctx, headers, &tx, &candidate, purpose, slot, None).await?;
    tx.commit().await?;
    Ok(verified)
}

fn purpose_type(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Signup => "signup",
        Purpose::Invite => "invite",
        Purpose::Recovery => "recovery",
        Purpose::MagicLink => "magiclink",
        Purpose::EmailChange => "email_change",
    }
}

/// Spends the token and does what it was for, then signs the user in, or, for a PKCE `flow`,
/// hands out the flow's auth code.
async fn complete(
    ctx: &AuthContext,
    headers: &HeaderMap,
    tx: &Transaction<'_>,
    user: &Candidate,
    purpose: Purpose,
    slot: TokenSlot,
    flow: Option<pkce::FlowMethod>,
) -> AuthResult<Verified> {
    match purpose {
        Purpose::Signup | Purpose::Invite => {
            if user.invited_without_password {
                // GoTrue gives an invited user a random password; the app asks for a real one.
                let random = crate::config::random_token(48);
                let hash = password::hash(&random).await?;
                tx.execute(
                    "UPDATE auth.users SET encrypted_password = $2 WHERE id = $1",
                    &[&user.id, &hash],
                )
                .await?;
            }
            tx.execute(
                "UPDATE auth.users SET confirmation_token = '', updated_at = now() WHERE id = $1",
                &[&user.id],
            )
            .await?;
            confirm_email(tx, user.id).await?;
        }
        Purpose::Recovery | Purpose::MagicLink => {
            tx.execute(
                "UPDATE auth.users SET recovery_token = '', updated_at = now() WHERE id = $1",
                &[&user.id],
            )
            .await?;
            confirm_email(tx, user.id).await?;
        }
        Purpose::EmailChange => {
            let secure = ctx.settings.secure_email_change
                && !ctx.settings.mailer_autoconfirm
                && user.email_change_confirm_status == 0
                && !user.email.is_empty();
            if secure {
                tx.execute(
                    &format!(
                        "UPDATE auth.users SET {} = '', email_change_confirm_status = 1, \
                             updated_at = now() WHERE id = $1",
                        slot.token_column()
                    ),
                    &[&user.id],
                )
                .await?;
                return Ok(Verified::FirstOfTwo);
            }
            change_email(tx, user).await?;
        }
    }
    if let Some(method) = flow {
        return Ok(Verified::AuthCode(
            pkce::issue_auth_code(tx, user.id, method).await?,
        ));
    }
    let session = sessions::sign_in(
        tx,
        &ctx.minter(),
        user.id,
        SignInMethod::Otp,
        user_agent(headers),
    )
    .await?;
    Ok(Verified::Session(Box::new(session)))
}

/// GoTrue's `user.Confirm`: the address is confirmed, and marked verified in the metadata and
/// on the e-mail identity.
async fn confirm_email(tx: &Transaction<'_>, user_id: Uuid) -> AuthResult<()> {
    tx.execute(
        "UPDATE auth.users SET email_confirmed_at = coalesce(email_confirmed_at, now()), \
             raw_user_meta_data = coalesce(raw_user_meta_data, '{}') || '{\"email_verified\": true}', \
             updated_at = now() \
         WHERE id = $1",
        &[&user_id],
    )
    .await?;
    tx.execute(
        "UPDATE auth.identities SET identity_data = identity_data || '{\"email_verified\": true}', \
             updated_at = now() \
         WHERE user_id = $1 AND provider = 'email' AND email = lower( \
             (SELECT email FROM auth.users WHERE id = $1))",
        &[&user_id],
    )
    .await?;
    Ok(())
}

/// GoTrue's `ConfirmEmailChange`: the new address replaces the old, on the user and its e-mail
/// identity; the pending change and both tokens go.
async fn change_email(tx: &Transaction<'_>, user: &Candidate) -> AuthResult<()> {
    let new_email = &user.email_change;
    tx.execute(
        "UPDATE auth.users SET email = email_change, email_change = '', \
             email_change_token_current = '', email_change_token_new = '', \
             email_change_confirm_status = 0, is_anonymous = false, \
             email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now() \
         WHERE id = $1",
        &[&user.id],
    )
    .await?;
    let updated = tx
        .execute(
            "UPDATE auth.identities SET identity_data = identity_data || \
                 jsonb_build_object('email', $2::text, 'email_verified', true), updated_at = now() \
             WHERE user_id = $1 AND provider = 'email'",
            &[&user.id, new_email],
        )
        .await?;
    if updated == 0 {
        users::add_verified_email_identity(tx, user.id, new_email).await?;
    }
    Ok(())
}

/// GoTrue's `AsRedirectURL`: the session in the fragment, keys sorted, with the `type`.
fn session_redirect(redirect_to: &str, session: &SessionResponse, kind: &str) -> String {
    let expires_at = session.expires_at.to_string();
    let expires_in = session.expires_in.to_string();
    fragment_redirect(
        redirect_to,
        &[
            ("access_token", &session.access_token),
            ("expires_at", &expires_at),
            ("expires_in", &expires_in),
            ("refresh_token", &session.refresh_token),
            ("token_type", session.token_type),
            ("type", kind),
        ],
    )
}

/// `redirect_to` with `pairs` set in its query (GoTrue's `prepPKCERedirectURL`, and the query
/// half of its messages and PKCE errors): the query is parsed and re-encoded as Go's
/// `url.Values` escapes it, `pairs` replacing the values of their keys; the fragment is kept.
/// Unchanged when it is not a URL. (Go also sorts the keys; devstack keeps the app's own
/// parameters first, in their order, which no client reads differently.)
fn with_query(redirect_to: &str, pairs: &[(&str, &str)]) -> String {
    if url::Url::parse(redirect_to).is_err() {
        return redirect_to.to_owned();
    }
    let (before_fragment, fragment) = match redirect_to.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (redirect_to, None),
    };
    let (base, query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    let values: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| !pairs.iter().any(|(name, _)| name == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .collect();
    let mut url = base.to_owned();
    if !values.is_empty() {
        url.push('?');
        url.push_str(&encode_values(&values));
    }
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// `redirect_to` with its fragment replaced by `pairs` (and GoTrue's `sb` marker on messages
/// and errors, which auth-js looks for).
fn fragment_redirect(redirect_to: &str, pairs: &[(&str, &str)]) -> String {
    let mut values: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let session = pairs.iter().any(|(k, _)| *k == "access_token");
    if !session {
        values.push(("sb".to_owned(), String::new()));
    }
    let mut fragment = encode_values(&values);
    if !session {
        // GoTrue sets the encoded values as the URL's (decoded) fragment, which Go's
        // `url.URL.String` escapes once more: only `%` is not allowed there.
        fragment = fragment.replace('%', "%25");
    }
    let base = redirect_to.split('#').next().unwrap_or(redirect_to);
    format!("{base}#{fragment}")
}

/// Go's `url.Values.Encode` of `values` in their order (GoTrue's fragments list their keys
/// sorted, as Go does), each part escaped as `url.QueryEscape` does.
fn encode_values(values: &[(String, String)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Go's `url.QueryEscape`: all but letters, digits and `-_.~` escaped, a space as `+`.
fn query_escape(s: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_fragments_carry_gotrues_marker() {
        let url = fragment_redirect(
            "http://127.0.0.1:3000/welcome#old",
            &[
                ("error", "access_denied"),
                ("error_code", "otp_expired"),
                ("error_description", "Email link is invalid or has expired"),
            ],
        );
        assert_eq!(
            url,
            "http://127.0.0.1:3000/welcome#error=access_denied&error_code=otp_expired\
             &error_description=Email+link+is+invalid+or+has+expired&sb="
        );
    }

    /// GoTrue's TestPrepRedirectURL and TestPrepErrorRedirectURL (verify_test.go).
    #[test]
    fn messages_and_errors_as_gotrue_prepares_them() {
        let message = [("message", SINGLE_CONFIRMATION_ACCEPTED)];
        let escaped =
            "Confirmation+link+accepted.+Please+proceed+to+confirm+link+sent+to+the+other+email";
        assert_eq!(
            fragment_redirect(
                &with_query("https://example.com/?first=another", &message),
                &message
            ),
            format!("https://example.com/?first=another&message={escaped}#message={escaped}&sb=")
        );
        assert_eq!(
            fragment_redirect(
                &with_query("https://example.com/?message=Valid+redirect+URL", &message),
                &message
            ),
            format!("https://example.com/?message={escaped}#message={escaped}&sb=")
        );
        assert_eq!(
            fragment_redirect(&with_query("https://example.com/", &[]), &message),
            format!("https://example.com/#message={escaped}&sb=")
        );
        assert_eq!(
            fragment_redirect(
                &with_query("https://example.com/?first=another", &[]),
                &message
            ),
            format!("https://example.com/?first=another#message={escaped}&sb=")
        );
        let error = [
            ("error", "invalid_request"),
            ("error_code", "validation_failed"),
            ("error_description", "Invalid redirect URL"),
        ];
        let encoded = "error=invalid_request&error_code=validation_failed&error_description=Invalid+redirect+URL";
        assert_eq!(
            fragment_redirect(
                &with_query("https://example.com/?error=Error+to+be+overriden", &error),
                &error
            ),
            format!("https://example.com/?{encoded}#{encoded}&sb=")
        );
        assert_eq!(
            fragment_redirect("https://example.com/?test=param", &error),
            format!("https://example.com/?test=param#{encoded}&sb=")
        );
    }

    #[test]
    fn go_escapes_the_query_and_once_more_the_fragment() {
        assert_eq!(query_escape("a b~*:/é"), "a+b~%2A%3A%2F%C3%A9");
        assert_eq!(
            fragment_redirect("http://h/p", &[("message", "a: b")]),
            "http://h/p#message=a%253A+b&sb="
        );
        assert_eq!(with_query("not a url", &[("code", "c")]), "not a url");
        assert_eq!(
            with_query("http://127.0.0.1:3000", &[("code", "c")]),
            "http://127.0.0.1:3000?code=c",
            "Go keeps an empty path empty"
        );
    }

    #[test]
    fn pkce_codes_go_in_the_query() {
        assert_eq!(
            with_query(
                "http://127.0.0.1:3000/cb?next=%2Fa&code=old",
                &[("code", "c-1")]
            ),
            "http://127.0.0.1:3000/cb?next=%2Fa&code=c-1"
        );
    }

    #[test]
    fn email_type_resolves_by_the_matched_token() {
        assert_eq!(
            resolve("email", TokenSlot::Confirmation),
            Some(Purpose::Signup)
        );
        assert_eq!(
            resolve("email", TokenSlot::Recovery),
            Some(Purpose::MagicLink)
        );
        assert_eq!(
            resolve("recovery", TokenSlot::Recovery),
            Some(Purpose::Recovery)
        );
        assert!(slots_for("sms").is_none());
    }
}
