//! Sending an invitation's e-mail and recording how it went: on create, replace and resend (in
//! the request) and from the retry job (cron) for sends that failed or never finished.
//!
//! In a request, a mail the transport took is recorded after the answer (`ctx.waitUntil`): the
//! send was claimed for [`CLAIM_SECONDS`] when it was queued, so if that record is lost the retry
//! job sends again under the same idempotency key, which the provider does not deliver twice. A
//! failed attempt is recorded before answering, so the answer shows the retry the database set.

use edge_crypto::KeyRing;
use edge_http::ApiError;
use edge_worker::{
    Defer, MailConfig, MailFailure, Rest, RestError, SentMail, SupabaseConfig, internal_error,
    optional_setting, send_mail,
};
use serde_json::json;
use worker::Env;

use crate::invitation_mail::invitation_mail;
use crate::invitation_view::{InvitationRecord, LinkBase, open_token};

/// How long a sender holds a claimed send before the retry job may take it over: well past
/// the longest allowed mail time-out (60 s).
pub const CLAIM_SECONDS: i64 = 120;
/// Sends per run of the retry job.
const RETRY_BATCH: i64 = 20;

/// What sending needs: the transport, the database and how links are made.
pub struct Mailer<'a> {
    pub env: &'a Env,
    pub config: &'a MailConfig,
    pub rest: &'a Rest,
    pub key_ring: &'a KeyRing,
    pub link_base: &'a LinkBase,
    /// In a request: where a sent mail's record goes, after the answer. None (the retry job):
    /// every outcome is recorded before going on.
    pub defer: Option<&'a Defer>,
}

impl Mailer<'_> {
    /// Sends the e-mail of the send queued on `record` (its `mail`) with `token`'s link, and
    /// records the outcome. Returns the invitation as recorded and whether the mail went out.
    pub async fn deliver(&self, record: InvitationRecord, token: &str) -> (InvitationRecord, bool) {
        let Some(context) = record.mail.as_ref() else {
            return (record, false);
        };
        let link = self.link_base.link(token);
        let mail = invitation_mail(&record.email, &link, &record.expires_at, context);
        let outcome = send_mail(self.env, self.config, &mail).await;
        let key = context.delivery_key.clone();
        self.record_outcome(record, &key, outcome).await
    }

    /// Like [`Mailer::deliver`] for a stored invitation, its token unsealed from the envelope.
    /// An envelope that no longer opens is recorded as a permanent failure: only replacing the
    /// invitation makes a new link.
    pub async fn deliver_stored(&self, record: InvitationRecord) -> (InvitationRecord, bool) {
        let opened = record
            .token_encrypted
            .as_deref()
            .map(|envelope| open_token(self.key_ring, record.profile_id, envelope));
        if let Some(Ok(token)) = opened {
            return self.deliver(record, &token).await;
        }
        let Some(key) = record.mail.as_ref().map(|m| m.delivery_key.clone()) else {
            return (record, false);
        };
        let failure = MailFailure {
            reason: "the link cannot be unsealed (its key left ENCRYPTION_KEY_RING); replace the invitation".into(),
            permanent: true,
        };
        self.record_outcome(record, &key, Err(failure)).await
    }

    /// Records one attempt of the send `key`. If that fails, the send stays claimed and the
    /// retry job repeats it later under the same idempotency key, which the provider does not
    /// deliver twice.
    async fn record_outcome(
        &self,
        record: InvitationRecord,
        key: &str,
        outcome: Result<SentMail, MailFailure>,
    ) -> (InvitationRecord, bool) {
        let args = match &outcome {
            Ok(done) => json!({
                "p_invitation_id": record.id,
                "p_delivery_key": key,
                "p_sent": true,
                "p_message_id": done.message_id,
            }),
            Err(MailFailure { reason, permanent }) => {
                worker::console_error!(
                    "invitation {} e-mail attempt failed ({}): {reason}",
                    record.id,
                    if *permanent {
                        "permanent"
                    } else {
                        "will retry"
                    },
                );
                json!({
                    "p_invitation_id": record.id,
                    "p_delivery_key": key,
                    "p_sent": false,
                    "p_error": reason,
                    "p_permanent": permanent,
                })
            }
        };
        let recording = self.rest.rpc("record_profile_invitation_delivery", &args);
        if let (Some(defer), Ok(_)) = (self.defer, &outcome) {
            let id = record.id;
            defer.after_answer(async move {
                let _ = recorded(id, Rest::run(recording).await);
            });
            return (record.sent_now(&edge_worker::timestamp_now()), true);
        }
        let sent = outcome.is_ok();
        let id = record.id;
        match recorded(id, Rest::run(recording).await) {
            Some(recorded) => (recorded, sent),
            None => (record, sent),
        }
    }
}

/// The invitation as `record_profile_invitation_delivery` recorded it; a failure to record is
/// logged (the send stays claimed, and the retry job repeats it later).
fn recorded(
    id: uuid::Uuid,
    answer: Result<Result<InvitationRecord, RestError>, ApiError>,
) -> Option<InvitationRecord> {
    match answer {
        Ok(Ok(recorded)) => Some(recorded),
        Ok(Err(e)) => {
            let _ = e.unexpected("recording an invitation e-mail's outcome");
            None
        }
        Err(e) => {
            worker::console_error!("recording invitation {id} e-mail: {}", e.message());
            None
        }
    }
}

/// The retry job's outcome, for the log.
pub struct RetryRun {
    pub sent: usize,
    pub failed: usize,
}

impl std::fmt::Display for RetryRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} invitation e-mail(s) sent, {} failed",
            self.sent, self.failed
        )
    }
}

/// One run of the retry job: claims the due sends (failed ones whose back-off has passed,
/// queued ones whose sender never finished) and sends each once. Nothing to do when e-mail is
/// off.
pub async fn retry_due_deliveries(env: &Env, config: SupabaseConfig) -> Result<RetryRun, ApiError> {
    let mut run = RetryRun { sent: 0, failed: 0 };
    let Some(mail) = MailConfig::from_env(env)? else {
        return Ok(run);
    };
    let key_ring = edge_worker::key_ring(env)?;
    let link_base = LinkBase::parse(optional_setting(env, "INVITATION_LINK_BASE").as_deref())
        .map_err(|e| internal_error("configuration", e))?;
    let rest = Rest::as_service(&config);
    let args = json!({ "p_limit": RETRY_BATCH, "p_claim_seconds": CLAIM_SECONDS });
    let due: Vec<InvitationRecord> =
        Rest::run(rest.rpc("claim_profile_invitation_deliveries", &args))
            .await?
            .map_err(|e| e.unexpected("claiming invitation e-mails"))?;
    let mailer = Mailer {
        env,
        config: &mail,
        rest: &rest,
        key_ring: &key_ring,
        link_base: &link_base,
        defer: None,
    };
    for record in due {
        if mailer.deliver_stored(record).await.1 {
            run.sent += 1;
        } else {
            run.failed += 1;
        }
    }
    Ok(run)
}
