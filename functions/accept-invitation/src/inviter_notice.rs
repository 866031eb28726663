//! Telling the admin who sent an invitation that it has been accepted: one e-mail, sent once
//! the account is linked. It is a courtesy: a failed notice is logged and changes nothing about
//! the acceptance.

use edge_worker::{
    MailConfig, OutgoingMail, RequestContext, Rest, escape_html, person_name, plain_name,
    readable_time, send_mail,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// What `profile_invitation_acceptance_notice` returns for an accepted invitation.
#[derive(Debug, Deserialize)]
pub struct AcceptanceNotice {
    pub invitation_id: Uuid,
    pub invitee_email: String,
    pub accepted_at: String,
    pub profile: NoticeProfile,
    pub inviter: NoticeInviter,
}

#[derive(Debug, Deserialize)]
pub struct NoticeProfile {
    pub first_name: String,
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NoticeInviter {
    pub email: String,
    pub name: Option<String>,
}

/// E-mails the inviter of the invitation `token_hash` (just accepted), when e-mail is on and
/// the inviter still has an address. Failures are logged: the acceptance stands.
pub async fn notify_inviter(ctx: &RequestContext, rest: &Rest, token_hash: &str) {
    let mail = match MailConfig::from_env(&ctx.env) {
        Ok(Some(mail)) => mail,
        Ok(None) | Err(_) => return,
    };
    let args = json!({ "p_token_hash": token_hash });
    let notice = match Rest::run::<Option<AcceptanceNotice>>(
        rest.rpc("profile_invitation_acceptance_notice", &args),
    )
    .await
    {
        Ok(Ok(Some(notice))) => notice,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            let _ = e.unexpected("reading an acceptance notice");
            return;
        }
        Err(e) => {
            worker::console_error!(
                "{} reading an acceptance notice: {}",
                ctx.request_id,
                e.message()
            );
            return;
        }
    };
    if let Err(failure) = send_mail(&ctx.env, &mail, &notice_mail(&notice)).await {
        worker::console_error!(
            "{} the acceptance notice of invitation {} was not sent: {}",
            ctx.request_id,
            notice.invitation_id,
            failure.reason
        );
    }
}

/// The notice, in text and HTML.
pub fn notice_mail(notice: &AcceptanceNotice) -> OutgoingMail {
    let profile = person_name(
        &notice.profile.first_name,
        notice.profile.last_name.as_deref(),
    );
    let when = readable_time(&notice.accepted_at);
    let greeting = notice
        .inviter
        .name
        .as_deref()
        .map(plain_name)
        .filter(|name| !name.is_empty())
        .map_or_else(|| "Hello,".to_owned(), |name| format!("Hello {name},"));
    let subject = format!("{profile} accepted your invitation");
    let text = format!(
        "{greeting}\n\n{invitee} accepted your invitation on {when}: the profile of {profile} \
         now belongs to their new account.\n",
        invitee = plain_name(&notice.invitee_email)
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>{greeting}</p><p><strong>{invitee}</strong> accepted your invitation on {when}: \
         the profile of <strong>{profile}</strong> now belongs to their new account.</p>\
         </body></html>",
        greeting = escape_html(&greeting),
        invitee = escape_html(&notice.invitee_email),
        when = escape_html(&when),
        profile = escape_html(&profile),
    );
    OutgoingMail {
        to: notice.inviter.email.clone(),
        subject,
        text,
        html,
        idempotency_key: format!("{}:accepted", notice.invitation_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_goes_to_the_inviter_and_names_who_accepted() {
        let notice = AcceptanceNotice {
            invitation_id: Uuid::nil(),
            invitee_email: "ada@example.com".into(),
            accepted_at: "2026-12-01T10:00:00+00:00".into(),
            profile: NoticeProfile {
                first_name: "Ada".into(),
                last_name: Some("Lovelace".into()),
            },
            inviter: NoticeInviter {
                email: "boss@example.com".into(),
                name: Some("<Grace>".into()),
            },
        };
        let mail = notice_mail(&notice);
        assert_eq!(mail.to, "boss@example.com");
        assert_eq!(mail.subject, "Ada Lovelace accepted your invitation");
        assert!(
            mail.text
                .contains("ada@example.com accepted your invitation on 2026-12-01 10:00 UTC")
        );
        assert!(mail.html.contains("Hello &lt;Grace&gt;,"));
        assert_eq!(mail.idempotency_key, format!("{}:accepted", Uuid::nil()));
    }

    #[test]
    fn control_characters_in_names_reach_neither_subject_nor_text() {
        let notice = AcceptanceNotice {
            invitation_id: Uuid::nil(),
            invitee_email: "ada@example.com".into(),
            accepted_at: "2026-12-01T10:00:00+00:00".into(),
            profile: NoticeProfile {
                first_name: "Ada\r\nBcc: leak@evil.example".into(),
                last_name: Some("\u{85}Lovelace".into()),
            },
            inviter: NoticeInviter {
                email: "boss@example.com".into(),
                name: Some("Grace\n\nP.S.".into()),
            },
        };
        let mail = notice_mail(&notice);
        assert_eq!(
            mail.subject,
            "Ada Bcc: leak@evil.example Lovelace accepted your invitation"
        );
        assert!(
            mail.text.starts_with("Hello Grace P.S.,\n\n"),
            "{}",
            mail.text
        );
        assert!(
            mail.text
                .contains("the profile of Ada Bcc: leak@evil.example Lovelace now")
        );
    }
}
