//! The invitation RPCs' errors (SQLSTATE `PTxyz`, machine code in `hint`) as API answers.

use edge_http::ApiError;
use edge_worker::{RestError, refusals};

refusals! {
    /// What `create_/list_/revoke_profile_invitation` refuse on purpose; the status is the
    /// database's (`PT403`, `PT404`, `PT400`, `PT409`).
    pub enum InvitationRefusal {
        NotAdmin = "not_admin",
        ProfileNotFound = "profile_not_found",
        InvitationNotFound = "invitation_not_found",
        NoActiveInvitation = "no_active_invitation",
        InvalidExpiry = "invalid_expiry",
        EmailRequired = "email_required",
        InvalidEmail = "invalid_email",
        ProfileAlreadyLinked = "profile_already_linked",
        EmailTaken = "email_taken",
        InvitationExists = "invitation_exists",
        InvitationNotPending = "invitation_not_pending",
        LinkNotStored = "link_not_stored",
    }
}

/// The database's message is written for clients (see the migration's header); an error
/// without a known refusal is this function's bug and becomes a logged 500.
pub fn api_error(error: RestError, context: &str) -> ApiError {
    error.into_api_error::<InvitationRefusal>(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest_error(status: u16, hint: &str, message: &str) -> RestError {
        RestError {
            status,
            code: format!("PT{status}"),
            message: message.into(),
            details: None,
            hint: Some(hint.into()),
        }
    }

    #[test]
    fn hints_become_status_and_code_with_the_database_message() {
        let cases = [
            (403, "not_admin"),
            (404, "profile_not_found"),
            (404, "invitation_not_found"),
            (404, "no_active_invitation"),
            (409, "link_not_stored"),
            (400, "invalid_expiry"),
            (400, "email_required"),
            (400, "invalid_email"),
            (409, "profile_already_linked"),
            (409, "email_taken"),
            (409, "invitation_not_pending"),
        ];
        for (status, hint) in cases {
            let err = api_error(rest_error(status, hint, "why"), "testing");
            assert_eq!(
                (err.status(), err.code(), err.message()),
                (status, hint, "why")
            );
        }
    }
}
