//! Invitations as the database returns them and as the API shows them: with the link for a
//! pending invitation (its token unsealed from the envelope), without it for the others.

use edge_crypto::{Aad, EnvelopeError, KeyRing};
use edge_http::ApiError;
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

/// Where links point when `INVITATION_LINK_BASE` is not set: a register page of a locally run
/// frontend. Set the variable in production.
pub const DEFAULT_LINK_BASE: &str = "http://localhost:3000/register/";
/// The envelope's field in its associated data.
const TOKEN_FIELD: &str = "token";

/// An invitation as `public.profile_invitation_to_json` gives it (never the token hash).
#[derive(Debug, Deserialize)]
pub struct InvitationRecord {
    pub id: Uuid,
    pub profile_id: Uuid,
    pub email: String,
    pub status: String,
    pub token_encrypted: Option<String>,
    pub invited_by: Option<Uuid>,
    pub created_at: String,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    pub accepted_by: Option<Uuid>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<Uuid>,
    #[serde(flatten)]
    pub delivery: Delivery,
    /// What the e-mail of the current send needs; only in the answers that queued one.
    pub mail: Option<MailContext>,
}

/// How the invitation's e-mail went (null status: it was never e-mailed). See the migration
/// `20261201160000_invitation_email_delivery.sql`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Delivery {
    pub delivery_status: Option<String>,
    #[serde(default)]
    pub delivery_attempts: i32,
    pub delivery_error: Option<String>,
    pub delivery_next_attempt_at: Option<String>,
    pub delivery_sent_at: Option<String>,
}

/// What the database adds for the e-mail of a queued send.
#[derive(Debug, Clone, Deserialize)]
pub struct MailContext {
    pub delivery_key: String,
    pub profile: ProfileName,
    pub inviter: Option<Inviter>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProfileName {
    pub first_name: String,
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Inviter {
    pub email: Option<String>,
    pub name: Option<String>,
}

/// An invitation as the API shows it. `link` and `token` are present for a pending invitation
/// whose token can be unsealed, `null` otherwise: a used, expired or revoked link is no use to
/// anyone.
#[derive(Debug, Serialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub profile_id: Uuid,
    pub email: String,
    pub status: String,
    pub link: Option<String>,
    pub token: Option<String>,
    pub expires_at: String,
    pub invited_by: Option<Uuid>,
    pub created_at: String,
    pub accepted_at: Option<String>,
    pub accepted_by: Option<Uuid>,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<Uuid>,
    #[serde(flatten)]
    pub delivery: Delivery,
    /// In answers to POST: whether the transport took the e-mail this request sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_sent: Option<bool>,
}

impl InvitationView {
    /// With `INVITATION_LINK_DELIVERY=email_only` the link travels only by e-mail.
    pub fn without_link(self) -> Self {
        Self {
            link: None,
            token: None,
            ..self
        }
    }
}

/// The start of every link; the token is appended as is (it is base64url, safe anywhere in a
/// URL), so both `https://app.example.com/register/` and `https://app.example.com/register?token=`
/// work.
#[derive(Debug, Clone)]
pub struct LinkBase(String);

impl LinkBase {
    /// `INVITATION_LINK_BASE`, or [`DEFAULT_LINK_BASE`] when unset; it must be an http(s) URL.
    pub fn parse(setting: Option<&str>) -> Result<Self, String> {
        let base = setting.unwrap_or(DEFAULT_LINK_BASE).trim();
        match Url::parse(base) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Self(base.to_owned())),
            _ => Err(format!(
                "INVITATION_LINK_BASE must be an http(s) URL, not {base:?}"
            )),
        }
    }

    pub fn link(&self, token: &str) -> String {
        format!("{}{token}", self.0)
    }
}

/// The row part of the token envelope's associated data. The invitation's id is made by the
/// database, after the token is sealed, so the envelope is bound to its profile (as owner and
/// row) and field: copied to another profile's invitation it does not open.
pub fn token_aad_row(profile_id: Uuid) -> String {
    format!("profile_invitations/{profile_id}")
}

/// Seals a new invitation's token for `profile_id`.
pub fn seal_token(ring: &KeyRing, profile_id: Uuid, token: &str) -> Result<String, EnvelopeError> {
    let row = token_aad_row(profile_id);
    ring.seal_str(token, token_aad(profile_id, &row))
}

fn token_aad(profile_id: Uuid, row: &str) -> Aad<'_> {
    Aad {
        owner: profile_id,
        row,
        field: TOKEN_FIELD,
    }
}

impl InvitationRecord {
    /// The invitation as `record_profile_invitation_delivery` writes it for a sent attempt of
    /// its current send at `sent_at`: what a request answers while that record is written after
    /// the answer.
    pub fn sent_now(self, sent_at: &str) -> Self {
        Self {
            delivery: Delivery {
                delivery_status: Some("sent".to_owned()),
                delivery_attempts: self.delivery.delivery_attempts + 1,
                delivery_error: None,
                delivery_next_attempt_at: None,
                delivery_sent_at: Some(sent_at.to_owned()),
            },
            ..self
        }
    }

    /// The view with `token` (just made) as its link.
    pub fn with_token(self, token: String, base: &LinkBase) -> InvitationView {
        let link = base.link(&token);
        self.view(Some(link), Some(token))
    }

    /// The view with the link unsealed from the envelope if the invitation is pending. An
    /// envelope that does not open (its key dropped from the ring, or tampered with) is logged
    /// by the caller and shown without a link: the admin can `replace` the invitation.
    pub fn with_stored_link(
        self,
        ring: &KeyRing,
        base: &LinkBase,
    ) -> (InvitationView, Option<EnvelopeError>) {
        let envelope = match (&self.token_encrypted, self.status.as_str()) {
            (Some(envelope), "pending") => envelope.clone(),
            _ => return (self.view(None, None), None),
        };
        match open_token(ring, self.profile_id, &envelope) {
            Ok(token) => (self.with_token(token, base), None),
            Err(e) => (self.view(None, None), Some(e)),
        }
    }

    fn view(self, link: Option<String>, token: Option<String>) -> InvitationView {
        InvitationView {
            id: self.id,
            profile_id: self.profile_id,
            email: self.email,
            status: self.status,
            link,
            token,
            expires_at: self.expires_at,
            invited_by: self.invited_by,
            created_at: self.created_at,
            accepted_at: self.accepted_at,
            accepted_by: self.accepted_by,
            revoked_at: self.revoked_at,
            revoked_by: self.revoked_by,
            delivery: self.delivery,
            email_sent: None,
        }
    }
}

/// The token sealed in `envelope` for `profile_id`'s invitation.
pub fn open_token(
    ring: &KeyRing,
    profile_id: Uuid,
    envelope: &str,
) -> Result<String, EnvelopeError> {
    let row = token_aad_row(profile_id);
    ring.open_str(envelope, token_aad(profile_id, &row))
        .map(|token| token.expose().to_owned())
}

/// Parses the invitation JSON the database put in an error's `details`.
pub fn record_from_details(details: Option<&str>) -> Result<InvitationRecord, ApiError> {
    serde_json::from_str(details.unwrap_or_default()).map_err(|e| {
        edge_worker::internal_error("reading the active invitation from a conflict", e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RING: &str = "v1;active=k1;k1=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    fn record(profile_id: Uuid, status: &str, envelope: Option<String>) -> InvitationRecord {
        InvitationRecord {
            id: Uuid::new_v4(),
            profile_id,
            email: "ada@example.com".into(),
            status: status.into(),
            token_encrypted: envelope,
            invited_by: Some(Uuid::new_v4()),
            created_at: "2026-11-22T10:00:00+00:00".into(),
            expires_at: "2026-11-29T10:00:00+00:00".into(),
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
            revoked_by: None,
            delivery: Delivery::default(),
            mail: None,
        }
    }

    #[test]
    fn a_pending_invitation_shows_its_link_again() {
        let ring = KeyRing::parse(RING).unwrap();
        let base = LinkBase::parse(Some("https://app.example.com/register/")).unwrap();
        let profile = Uuid::new_v4();
        let envelope = seal_token(&ring, profile, "tok_123").unwrap();
        assert!(!envelope.contains("tok_123"));
        let (view, error) =
            record(profile, "pending", Some(envelope)).with_stored_link(&ring, &base);
        assert!(error.is_none());
        assert_eq!(view.token.as_deref(), Some("tok_123"));
        assert_eq!(
            view.link.as_deref(),
            Some("https://app.example.com/register/tok_123")
        );
    }

    #[test]
    fn finished_invitations_show_no_link() {
        let ring = KeyRing::parse(RING).unwrap();
        let base = LinkBase::parse(None).unwrap();
        let profile = Uuid::new_v4();
        for status in ["accepted", "expired", "revoked"] {
            let envelope = seal_token(&ring, profile, "tok").unwrap();
            let (view, error) =
                record(profile, status, Some(envelope)).with_stored_link(&ring, &base);
            assert!(error.is_none());
            assert_eq!((view.link, view.token), (None, None), "{status}");
        }
    }

    #[test]
    fn an_envelope_moved_to_another_profile_does_not_open() {
        let ring = KeyRing::parse(RING).unwrap();
        let base = LinkBase::parse(None).unwrap();
        let envelope = seal_token(&ring, Uuid::new_v4(), "tok").unwrap();
        let (view, error) =
            record(Uuid::new_v4(), "pending", Some(envelope)).with_stored_link(&ring, &base);
        assert!(error.is_some());
        assert_eq!(view.link, None);
    }

    #[test]
    fn link_base_defaults_and_must_be_http() {
        assert_eq!(
            LinkBase::parse(None).unwrap().link("abc"),
            "http://localhost:3000/register/abc"
        );
        assert_eq!(
            LinkBase::parse(Some("https://x.example/register?token="))
                .unwrap()
                .link("abc"),
            "https://x.example/register?token=abc"
        );
        for bad in ["", "register/", "javascript:alert(1)", "ftp://x.example/"] {
            assert!(LinkBase::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn conflict_details_parse_as_a_record() {
        let details = r#"{"id":"6f1c1f2e-3b7a-4c55-9d7e-0a1b2c3d4e5f","profile_id":"6f1c1f2e-3b7a-4c55-9d7e-0a1b2c3d4e50","email":"a@b.co","status":"pending","token_encrypted":null,"invited_by":null,"created_at":"x","expires_at":"y","accepted_at":null,"accepted_by":null,"revoked_at":null,"revoked_by":null}"#;
        let parsed = record_from_details(Some(details)).unwrap();
        assert_eq!(parsed.status, "pending");
        assert_eq!(parsed.email, "a@b.co");
        assert_eq!(parsed.delivery.delivery_status, None);
    }

    #[test]
    fn delivery_state_and_mail_context_are_read() {
        let json = r#"{"id":"6f1c1f2e-3b7a-4c55-9d7e-0a1b2c3d4e5f","profile_id":"6f1c1f2e-3b7a-4c55-9d7e-0a1b2c3d4e50","email":"a@b.co","status":"pending","token_encrypted":null,"invited_by":null,"created_at":"x","expires_at":"y","accepted_at":null,"accepted_by":null,"revoked_at":null,"revoked_by":null,"delivery_status":"failed","delivery_attempts":2,"delivery_error":"down","delivery_next_attempt_at":"z","delivery_sent_at":null,"delivery_key":"k:1","mail":{"delivery_key":"k:1","profile":{"first_name":"Ada","last_name":null},"inviter":{"email":"boss@b.co","name":null}}}"#;
        let parsed: InvitationRecord = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.delivery.delivery_status.as_deref(), Some("failed"));
        assert_eq!(parsed.delivery.delivery_attempts, 2);
        let mail = parsed.mail.clone().unwrap();
        assert_eq!(
            (mail.delivery_key.as_str(), mail.profile.first_name.as_str()),
            ("k:1", "Ada")
        );
        let view = serde_json::to_value(
            parsed
                .view(Some("l".into()), Some("t".into()))
                .without_link(),
        )
        .unwrap();
        assert_eq!(view["delivery_status"], "failed");
        assert_eq!(view["delivery_error"], "down");
        assert_eq!(
            (view["link"].clone(), view["token"].clone()),
            (serde_json::Value::Null, serde_json::Value::Null)
        );
        assert!(view.get("email_sent").is_none() && view.get("mail").is_none());
    }
}
