//! Issuing a mailed token: the per-address frequency check, the hash stored in the user's row
//! (replacing any older token of that kind) and the mail, sent once the transaction commits.

use chrono::Utc;
use tokio_postgres::GenericClient;
use uuid::Uuid;

use super::error::{AuthError, AuthResult};
use super::mailer::{self, MailKind, Outgoing};
use super::otp::{self, MailedToken};
use super::pkce::{self, Challenge, FlowMethod};
use super::settings::AuthSettings;
use super::users::User;
use crate::project::Project;

/// The `auth.users` columns a kind of token lives in: the hash, and when it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSlot {
    Confirmation,
    Recovery,
    Reauthentication,
    EmailChangeNew,
    EmailChangeCurrent,
}

impl TokenSlot {
    pub fn for_kind(kind: MailKind) -> Self {
        match kind {
            MailKind::Confirmation | MailKind::Invite => Self::Confirmation,
            MailKind::Recovery | MailKind::MagicLink => Self::Recovery,
            MailKind::Reauthentication => Self::Reauthentication,
            MailKind::EmailChange => Self::EmailChangeNew,
        }
    }

    pub fn token_column(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation_token",
            Self::Recovery => "recovery_token",
            Self::Reauthentication => "reauthentication_token",
            Self::EmailChangeNew => "email_change_token_new",
            Self::EmailChangeCurrent => "email_change_token_current",
        }
    }

    pub fn sent_at_column(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation_sent_at",
            Self::Recovery => "recovery_sent_at",
            Self::Reauthentication => "reauthentication_sent_at",
            Self::EmailChangeNew | Self::EmailChangeCurrent => "email_change_sent_at",
        }
    }
}

/// A mail whose token is stored; [`PendingMail::send`] it after the commit.
pub struct PendingMail {
    kind: MailKind,
    to: String,
    token: MailedToken,
    new_email: String,
}

impl PendingMail {
    /// This mail as a PKCE flow's when the request carried a `challenge` (GoTrue's
    /// `generateFlowState` and `addFlowPrefixToToken`): a flow state for the user, and the token
    /// stored and linked as `pkce_<hash>` (the code to type stays the same).
    pub async fn in_flow(
        mut self,
        db: &impl GenericClient,
        user_id: Uuid,
        challenge: Option<&Challenge>,
    ) -> AuthResult<Self> {
        let method = match self.kind {
            MailKind::Confirmation => FlowMethod::EmailSignup,
            MailKind::MagicLink => FlowMethod::MagicLink,
            MailKind::Recovery => FlowMethod::Recovery,
            _ => return Ok(self),
        };
        let Some(challenge) = challenge else {
            return Ok(self);
        };
        pkce::store_flow_state(db, user_id, method, challenge).await?;
        self.token.hash = pkce::in_flow(&self.token.hash);
        store(
            db,
            user_id,
            TokenSlot::for_kind(self.kind),
            &self.token.hash,
        )
        .await?;
        Ok(self)
    }

    pub fn send(&self, project: &Project, redirect_to: &str) {
        mailer::send(
            project,
            &Outgoing {
                kind: self.kind,
                to: &self.to,
                code: &self.token.code,
                token_hash: &self.token.hash,
                redirect_to,
                new_email: &self.new_email,
            },
        );
    }
}

/// Checks the address's frequency limit for this kind (the row is locked meanwhile, so two
/// concurrent requests cannot both pass) and stores a fresh token for `to`.
pub async fn issue(
    db: &impl GenericClient,
    settings: &AuthSettings,
    user_id: Uuid,
    kind: MailKind,
    to: &str,
) -> AuthResult<PendingMail> {
    check_frequency(db, settings, user_id, TokenSlot::for_kind(kind)).await?;
    issue_unchecked(db, settings, user_id, kind, to).await
}

/// Like [`issue`] without the frequency limit, which GoTrue does not apply to invitations and
/// generated links (an admin asks for them).
pub async fn issue_unchecked(
    db: &impl GenericClient,
    settings: &AuthSettings,
    user_id: Uuid,
    kind: MailKind,
    to: &str,
) -> AuthResult<PendingMail> {
    let slot = TokenSlot::for_kind(kind);
    let token = MailedToken::generate(to, settings.mailer_otp_length);
    store(db, user_id, slot, &token.hash).await?;
    Ok(PendingMail {
        kind,
        to: to.to_owned(),
        token,
        new_email: String::new(),
    })
}

/// GoTrue's `sendEmailChange`: a token for the new address and, with secure e-mail change, one
/// for the current address too; the change waits in `email_change` until confirmed. With a
/// `challenge`, one flow state for the change and both tokens `pkce_`-prefixed.
pub async fn issue_email_change(
    db: &impl GenericClient,
    settings: &AuthSettings,
    user: &User,
    new_email: &str,
    challenge: Option<&Challenge>,
) -> AuthResult<Vec<PendingMail>> {
    check_frequency(db, settings, user.id, TokenSlot::EmailChangeNew).await?;
    if let Some(challenge) = challenge {
        pkce::store_flow_state(db, user.id, FlowMethod::EmailChange, challenge).await?;
    }
    db.execute(
        "UPDATE auth.users SET email_change = $2, email_change_confirm_status = 0,              email_change_token_current = '' WHERE id = $1",
        &[&user.id, &new_email],
    )
    .await?;
    let mut targets = vec![(TokenSlot::EmailChangeNew, new_email)];
    if let Some(current) = user
        .email
        .as_deref()
        .filter(|_| settings.secure_email_change)
    {
        targets.push((TokenSlot::EmailChangeCurrent, current));
    }
    let mut mails = Vec::new();
    for (slot, to) in targets {
        let mut token = MailedToken::generate(to, settings.mailer_otp_length);
        if challenge.is_some() {
            token.hash = pkce::in_flow(&token.hash);
        }
        store(db, user.id, slot, &token.hash).await?;
        mails.push(PendingMail {
            kind: MailKind::EmailChange,
            to: to.to_owned(),
            token,
            new_email: new_email.to_owned(),
        });
    }
    Ok(mails)
}

async fn check_frequency(
    db: &impl GenericClient,
    settings: &AuthSettings,
    user_id: Uuid,
    slot: TokenSlot,
) -> AuthResult<()> {
    let row = db
        .query_opt(
            &format!(
                "SELECT {} FROM auth.users WHERE id = $1 FOR UPDATE",
                slot.sent_at_column()
            ),
            &[&user_id],
        )
        .await?
        .ok_or_else(|| AuthError::internal("Database error finding user", user_id))?;
    otp::check_frequency(row.get(0), settings.smtp_max_frequency, Utc::now())
}

pub async fn store(
    db: &impl GenericClient,
    user_id: Uuid,
    slot: TokenSlot,
    hash: &str,
) -> AuthResult<()> {
    db.execute(
        &format!(
            "UPDATE auth.users SET {} = $2, {} = now(), updated_at = now() WHERE id = $1",
            slot.token_column(),
            slot.sent_at_column()
        ),
        &[&user_id, &hash],
    )
    .await?;
    Ok(())
}
