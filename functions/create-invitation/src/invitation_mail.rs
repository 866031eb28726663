//! The invitation e-mail: who invites, whose record the link claims, the link, when it expires;
//! in text and HTML (every value escaped).

use edge_worker::{OutgoingMail, escape_html, person_name, plain_name, readable_time};

use crate::invitation_view::MailContext;

/// Composes the e-mail for one send of an invitation to `to`.
pub fn invitation_mail(
    to: &str,
    link: &str,
    expires_at: &str,
    context: &MailContext,
) -> OutgoingMail {
    let profile = person_name(
        &context.profile.first_name,
        context.profile.last_name.as_deref(),
    );
    let inviter = context
        .inviter
        .as_ref()
        .and_then(|i| i.name.as_deref().or(i.email.as_deref()))
        .map(plain_name)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "An administrator".to_owned());
    let expires = readable_time(expires_at);
    let subject = format!("{inviter} invited you to register as {profile}");
    let text = format!(
        "Hello,\n\n{inviter} invited you to create your account for the profile of {profile}.\n\n\
         Open this link to choose a password and finish registering:\n{link}\n\n\
         The link works once and expires on {expires}. If you did not expect this invitation, \
         ignore this e-mail.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>Hello,</p>\
         <p><strong>{inviter}</strong> invited you to create your account for the profile of \
         <strong>{profile}</strong>.</p>\
         <p><a href=\"{link}\">Finish registering</a></p>\
         <p>Or copy this link: {link}</p>\
         <p>The link works once and expires on {expires}. If you did not expect this invitation, \
         ignore this e-mail.</p></body></html>",
        inviter = escape_html(&inviter),
        profile = escape_html(&profile),
        link = escape_html(link),
        expires = escape_html(&expires),
    );
    OutgoingMail {
        to: to.to_owned(),
        subject,
        text,
        html,
        idempotency_key: context.delivery_key.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invitation_view::{Inviter, ProfileName};

    fn context(inviter_name: Option<&str>) -> MailContext {
        MailContext {
            delivery_key: "inv:1".into(),
            profile: ProfileName {
                first_name: "Ada".into(),
                last_name: Some("<Lovelace>".into()),
            },
            inviter: Some(Inviter {
                email: Some("boss@example.com".into()),
                name: inviter_name.map(Into::into),
            }),
        }
    }

    #[test]
    fn the_mail_names_inviter_profile_link_and_expiry() {
        let link = "https://app.example.com/register/abc?x=1&y=2";
        let mail = invitation_mail(
            "ada@example.com",
            link,
            "2026-12-08T22:50:00.123+00:00",
            &context(None),
        );
        assert_eq!(mail.to, "ada@example.com");
        assert_eq!(mail.idempotency_key, "inv:1");
        assert_eq!(
            mail.subject,
            "boss@example.com invited you to register as Ada <Lovelace>"
        );
        assert!(mail.text.contains(link));
        assert!(mail.text.contains("2026-12-08 22:50 UTC"));
        assert!(
            mail.html
                .contains("href=\"https://app.example.com/register/abc?x=1&amp;y=2\"")
        );
        assert!(mail.html.contains("Ada &lt;Lovelace&gt;"), "{}", mail.html);
        assert!(!mail.html.contains("<Lovelace>"));
    }

    #[test]
    fn the_inviters_name_wins_over_the_address() {
        let mail = invitation_mail("a@b.co", "l", "t", &context(Some("Grace")));
        assert!(mail.subject.starts_with("Grace invited you"));
    }

    #[test]
    fn control_characters_in_names_reach_neither_subject_nor_text() {
        let mut named = context(Some("Boss\r\nBcc: leak@evil.example"));
        named.profile.first_name = "Ada\r\nX-Injected: 1".into();
        let mail = invitation_mail("a@b.co", "l", "t", &named);
        assert_eq!(
            mail.subject,
            "Boss Bcc: leak@evil.example invited you to register as Ada X-Injected: 1 <Lovelace>"
        );
        assert!(!mail.subject.contains(['\r', '\n']));
        assert!(
            mail.text
                .contains("Boss Bcc: leak@evil.example invited you")
        );
        assert!(!mail.text.contains("\r"));
        assert!(!mail.text.contains("Boss\n"), "{}", mail.text);
        let unnamed = invitation_mail("a@b.co", "l", "t", &context(Some("\r\n")));
        assert!(unnamed.subject.starts_with("An administrator invited you"));
    }
}
