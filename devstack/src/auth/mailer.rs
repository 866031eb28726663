//! Auth's mail, delivered to the project's mail catcher as the CLI's GoTrue delivers to Mailpit
//! over SMTP: GoTrue's default subjects and wording, the `/verify` link GoTrue builds
//! (`GOTRUE_MAILER_URLPATHS_*=/auth/v1/verify`, as the CLI sets them) and, below the link, the
//! code (`{{ .Token }}`), which GoTrue's templates offer and hosted projects commonly show.

use uuid::Uuid;

use crate::mail::{Address, Message};
use crate::project::Project;

/// The CLI's `GOTRUE_SMTP_ADMIN_EMAIL`.
const SENDER: &str = "admin@email.com";

/// Which of GoTrue's mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Confirmation,
    Invite,
    Recovery,
    MagicLink,
    EmailChange,
    Reauthentication,
}

impl MailKind {
    /// The `type` the mailed link verifies as.
    pub fn verify_type(self) -> &'static str {
        match self {
            Self::Confirmation => "signup",
            Self::Invite => "invite",
            Self::Recovery => "recovery",
            Self::MagicLink => "magiclink",
            Self::EmailChange => "email_change",
            Self::Reauthentication => "reauthentication",
        }
    }

    fn subject(self, code: &str) -> String {
        match self {
            Self::Confirmation => "Confirm your email address".to_owned(),
            Self::Invite => "You've been invited".to_owned(),
            Self::Recovery => "Reset your password".to_owned(),
            Self::MagicLink => "Your sign-in link".to_owned(),
            Self::EmailChange => "Confirm your new email address".to_owned(),
            Self::Reauthentication => format!("{code} is your verification code"),
        }
    }

    /// The heading and the sentence above the link, GoTrue's default wording.
    fn wording(self, new_email: &str) -> (&'static str, String) {
        match self {
            Self::Confirmation => (
                "Confirm your email address",
                "Follow the link below to confirm this email address and finish signing up."
                    .to_owned(),
            ),
            Self::Invite => (
                "You've been invited",
                "You've been invited to create an account. Follow the link below to accept."
                    .to_owned(),
            ),
            Self::Recovery => (
                "Reset your password",
                "We received a request to reset your password. Follow the link below to choose a new one."
                    .to_owned(),
            ),
            Self::MagicLink => (
                "Your sign-in link",
                "Follow the link below to sign in. This link expires shortly and can only be used once."
                    .to_owned(),
            ),
            Self::EmailChange => (
                "Confirm your new email address",
                format!(
                    "Follow the link below to confirm {new_email} as your new email address."
                ),
            ),
            Self::Reauthentication => (
                "Your verification code",
                "Use the code below to verify your identity. It expires shortly.".to_owned(),
            ),
        }
    }
}

/// One mail to send.
pub struct Outgoing<'a> {
    pub kind: MailKind,
    pub to: &'a str,
    pub code: &'a str,
    pub token_hash: &'a str,
    /// Where the link's `/verify` sends the browser on (already checked against the allow list).
    pub redirect_to: &'a str,
    /// The address being changed to, for [`MailKind::EmailChange`].
    pub new_email: &'a str,
}

/// GoTrue's `ConfirmationURL`: `<API URL>/auth/v1/verify?token=…&type=…&redirect_to=…`.
pub fn verify_link(
    project: &Project,
    token_hash: &str,
    kind: MailKind,
    redirect_to: &str,
) -> String {
    let mut link = url::Url::parse(&format!("{}/auth/v1/verify", project.config.api_url()))
        .expect("the API URL is a URL");
    link.query_pairs_mut()
        .append_pair("token", token_hash)
        .append_pair("type", kind.verify_type())
        .append_pair("redirect_to", redirect_to);
    link.into()
}

/// Puts the mail in the project's mail catcher.
pub fn send(project: &Project, mail: &Outgoing<'_>) {
    let (heading, sentence) = mail.kind.wording(mail.new_email);
    let (text, html) = if mail.kind == MailKind::Reauthentication {
        (
            format!("{heading}\n\n{sentence}\n\n{}\n", mail.code),
            format!(
                "<h2>{heading}</h2>\n\n<p>{sentence}</p>\n<p>{}</p>",
                mail.code
            ),
        )
    } else {
        let link = verify_link(project, mail.token_hash, mail.kind, mail.redirect_to);
        let escaped = link.replace('&', "&amp;");
        (
            format!(
                "{heading}\n\n{sentence}\n\n{link}\n\nAlternatively, enter the code: {}\n",
                mail.code
            ),
            format!(
                "<h2>{heading}</h2>\n\n<p>{sentence}</p>\n<p><a href=\"{escaped}\">{heading}</a></p>\n<p>Alternatively, enter the code: {}</p>",
                mail.code
            ),
        )
    };
    let message = Message {
        id: Uuid::new_v4(),
        from: Address {
            name: String::new(),
            address: SENDER.to_owned(),
        },
        to: vec![Address {
            name: String::new(),
            address: mail.to.to_owned(),
        }],
        cc: Vec::new(),
        bcc: Vec::new(),
        reply_to: Vec::new(),
        subject: mail.kind.subject(mail.code),
        text,
        html,
        created: chrono::Utc::now(),
        read: false,
    };
    project.mail.store(message, None);
}
