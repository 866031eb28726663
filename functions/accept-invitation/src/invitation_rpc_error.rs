//! `preview_profile_invitation` / `accept_profile_invitation` errors (SQLSTATE `PTxyz`,
//! machine code in `hint`) as API answers.

use edge_http::ApiError;
use edge_worker::{RestError, refusals};

refusals! {
    /// What the preview and accept RPCs refuse on purpose: unknown or revoked (`PT404`), used or
    /// expired (`PT410`), linked meanwhile or address taken (`PT409`).
    pub enum AcceptRefusal {
        InvitationNotFound = "invitation_not_found",
        InvitationUsed = "invitation_used",
        InvitationExpired = "invitation_expired",
        ProfileAlreadyLinked = "profile_already_linked",
        AccountAlreadyLinked = "account_already_linked",
        EmailTaken = "email_taken",
    }
}

/// The database's messages are written for clients; an error without a known refusal is this
/// function's bug and becomes a logged 500.
pub fn api_error(error: RestError, context: &str) -> ApiError {
    error.into_api_error::<AcceptRefusal>(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_become_status_and_code() {
        for (status, hint) in [
            (404, "invitation_not_found"),
            (410, "invitation_used"),
            (410, "invitation_expired"),
            (409, "profile_already_linked"),
            (409, "account_already_linked"),
            (409, "email_taken"),
        ] {
            let error = RestError {
                status,
                code: format!("PT{status}"),
                message: "why".into(),
                details: None,
                hint: Some(hint.into()),
            };
            let err = api_error(error, "testing");
            assert_eq!(
                (err.status(), err.code(), err.message()),
                (status, hint, "why")
            );
        }
    }
}
