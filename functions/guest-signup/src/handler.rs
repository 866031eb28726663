//! `POST /guest-signup` (a new guest), `POST /guest-signup/retention` (the retention job on
//! demand) and `POST /guest-signup/link` (a signed-in account takes this device's visitor).

use edge_auth::ApiKeyKind;
use edge_http::{ApiError, BodyLimit};
use edge_worker::{
    Answer, IncomingRequest, RequestContext, Rest, internal_error, json_response, optional_setting,
    require_api_key, required_secret, sub_path,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::auth_api::{self, GuestSession};
use crate::client_network::{city_name, client_ip, country_code};
use crate::rate_limit::{DEFAULT_LIMIT, SignupRateLimit, bucket_key};
use crate::retention::run_retention;
use crate::signup_input::{ReportedVisit, SignupInput};
use crate::visitor_record::{RequestOrigin, visitor_attributes};

/// A visit report is a few URLs and short strings.
const BODY_LIMIT: BodyLimit = BodyLimit::new(8 * 1024);

/// The 201 answer.
#[derive(Serialize)]
struct GuestSignup {
    visitor_id: Uuid,
    user_id: Uuid,
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    token_type: &'static str,
    level: &'static str,
}

/// What `prepare_guest_signup` answers: the IP's token was taken and the visitor recorded, or
/// the bucket is empty.
#[derive(Deserialize)]
#[serde(untagged)]
enum PrepareAnswer {
    Allowed(PreparedSignup),
    Refused { retry_after: u32 },
}

/// A recorded visitor waiting for its account, and the one-time claim that attaches it.
#[derive(Deserialize)]
struct PreparedSignup {
    visitor_id: Uuid,
    claim: String,
}

pub async fn route(mut ctx: RequestContext) -> Result<Answer, ApiError> {
    let path = ctx.req.path();
    match sub_path(path, crate::SPEC.name).trim_end_matches('/') {
        "" => {
            require_api_key(&ctx, ApiKeyKind::Publishable)?;
            sign_up_guest(&mut ctx).await
        }
        "/retention" => {
            require_api_key(&ctx, ApiKeyKind::Secret)?;
            json_response(200, &run_retention(&ctx.config).await?)
        }
        "/link" => {
            require_api_key(&ctx, ApiKeyKind::Publishable)?;
            crate::device_link::link_device(&mut ctx).await
        }
        other => Err(ApiError::not_found(format!(
            "No guest-signup route {other}"
        ))),
    }
}

/// Validates the report (nothing spent on a bad one), then two round trips to the origin:
/// `prepare_guest_signup` takes a rate-limit token for the client IP and records the visitor
/// with a one-time claim, and the anonymous sign-up hands Auth that claim, so that the account
/// is created with its visitor and trial credits in one transaction (the claim's trigger; see
/// supabase/migrations/20261207900000_guest_signup_in_two_round_trips.sql). A refused visitor leaves no
/// account, and a sign-up that fails leaves only an unattached visitor that expires in an hour.
async fn sign_up_guest(ctx: &mut RequestContext) -> Result<Answer, ApiError> {
    let reported = read_report(&mut ctx.req).await?;
    let origin = request_origin(&ctx.req);
    let prepared = prepare_signup(ctx, &reported, &origin).await?;
    let session =
        auth_api::sign_up_anonymously(&ctx.config, &prepared.claim, origin.user_agent.as_deref())
            .await?;
    answer(session, prepared.visitor_id)
}

/// The body, which may be absent (supabase-js sends none without `body`): 413 past the limit,
/// 400 naming the problem.
async fn read_report(req: &mut IncomingRequest) -> Result<ReportedVisit, ApiError> {
    SignupInput::parse(&req.read_body(BODY_LIMIT).await?)?.validate()
}

fn request_origin(req: &IncomingRequest) -> RequestOrigin {
    let cf = req.cf();
    RequestOrigin {
        user_agent: req.header("user-agent"),
        ip: client_ip(req.header("cf-connecting-ip").as_deref()),
        country: country_code(req.header("cf-ipcountry").as_deref())
            .or_else(|| country_code(cf.as_ref().and_then(|cf| cf.country()).as_deref())),
        city: city_name(cf.and_then(|cf| cf.city())),
    }
}

/// `prepare_guest_signup` with the service key (a guest cannot write visitors): 429 when the
/// IP's bucket is empty. Its 400s (22023/22P02/23514) mean input this function let through;
/// they are answered as 400 naming the database's objection. Anything else is a 500.
async fn prepare_signup(
    ctx: &RequestContext,
    reported: &ReportedVisit,
    origin: &RequestOrigin,
) -> Result<PreparedSignup, ApiError> {
    let secret = required_secret(&ctx.env, "RATE_LIMIT_SECRET")?;
    let limit = match optional_setting(&ctx.env, "GUEST_SIGNUP_RATE_LIMIT") {
        Some(setting) => SignupRateLimit::parse(&setting)
            .map_err(|e| internal_error("reading GUEST_SIGNUP_RATE_LIMIT", e))?,
        None => DEFAULT_LIMIT,
    };
    let args = json!({
        "p_key": bucket_key(secret.as_bytes(), origin.ip),
        "p_limit": limit.requests,
        "p_window_secs": limit.window_secs,
        "p_visitor": visitor_attributes(reported, origin),
    });
    let request = Rest::as_service(&ctx.config).rpc("prepare_guest_signup", &args);
    match Rest::run::<PrepareAnswer>(request).await? {
        Ok(PrepareAnswer::Allowed(prepared)) => Ok(prepared),
        Ok(PrepareAnswer::Refused { retry_after }) => {
            Err(ApiError::too_many_requests(retry_after.max(1)))
        }
        Err(e) if e.status == 400 => Err(ApiError::bad_request(
            "invalid_visitor",
            format!("The visit was refused: {}", e.message),
        )),
        Err(e) => Err(e.unexpected("preparing a guest sign-up")),
    }
}

fn answer(session: GuestSession, visitor_id: Uuid) -> Result<Answer, ApiError> {
    json_response(
        201,
        &GuestSignup {
            visitor_id,
            user_id: session.user.id,
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            expires_in: session.expires_in,
            token_type: "bearer",
            level: "guest",
        },
    )
}
