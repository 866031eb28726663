//! The body of `POST /create-invitation` and the ids in the query strings, checked before
//! anything is made, sealed or written.

use edge_http::ApiError;
use serde::Deserialize;
use uuid::Uuid;

/// Supabase Auth refuses longer addresses, so an invitation to one could never be accepted.
const MAX_EMAIL_BYTES: usize = 255;
/// The local part's limit (RFC 5321), which Supabase Auth applies too.
const MAX_LOCAL_PART_BYTES: usize = 64;
/// Invitation lifetimes the database accepts, in days.
const EXPIRY_DAYS: std::ops::RangeInclusive<i64> = 1..=30;

/// What the client sends. Unknown fields are refused, so a typo (`expiresInDays`) is a 400,
/// not a silently ignored setting.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationInput {
    pub profile_id: String,
    pub email: Option<String>,
    pub expires_in_days: Option<i64>,
    pub replace: Option<bool>,
    /// E-mail the active invitation again, same link; nothing else may be given with it.
    pub resend: Option<bool>,
}

/// A checked invitation request, ready to become RPC arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct ValidInvitation {
    pub profile_id: Uuid,
    /// Lower-cased; `None` means the profile's own address.
    pub email: Option<String>,
    /// `None` means the default (7 days).
    pub expires_in_days: Option<i64>,
    pub replace: bool,
    pub resend: bool,
}

impl InvitationInput {
    pub fn validate(self) -> Result<ValidInvitation, ApiError> {
        let profile_id = parse_uuid("profile_id", &self.profile_id)?;
        let resend = self.resend.unwrap_or(false);
        if resend
            && (self.email.is_some() || self.expires_in_days.is_some() || self.replace.is_some())
        {
            return Err(ApiError::bad_request(
                "invalid_resend",
                "resend sends the active invitation again as it is: give only profile_id with it",
            ));
        }
        let email = self.email.map(|e| validate_email(&e)).transpose()?;
        if let Some(days) = self.expires_in_days
            && !EXPIRY_DAYS.contains(&days)
        {
            return Err(ApiError::bad_request(
                "invalid_expiry",
                format!(
                    "expires_in_days must be between {} and {}, not {days}",
                    EXPIRY_DAYS.start(),
                    EXPIRY_DAYS.end()
                ),
            ));
        }
        Ok(ValidInvitation {
            profile_id,
            email,
            expires_in_days: self.expires_in_days,
            replace: self.replace.unwrap_or(false),
            resend,
        })
    }
}

/// A UUID given as `field`, or 400 `invalid_<field>` naming it.
pub fn parse_uuid(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(value).map_err(|_| {
        ApiError::bad_request(
            format!("invalid_{field}"),
            format!("{field} must be a UUID"),
        )
    })
}

/// The address the account will get, lower-cased, if Supabase Auth would accept it:
/// `local@domain.tld`, no spaces, within its length limits.
fn validate_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    if looks_like_email(&email) {
        Ok(email)
    } else {
        Err(ApiError::bad_request(
            "invalid_email",
            "email must be an e-mail address such as name@example.com",
        ))
    }
}

fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= MAX_LOCAL_PART_BYTES
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    email.len() <= MAX_EMAIL_BYTES && local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = "6f1c1f2e-3b7a-4c55-9d7e-0a1b2c3d4e5f";

    fn input(email: Option<&str>, days: Option<i64>) -> InvitationInput {
        InvitationInput {
            profile_id: PROFILE.into(),
            email: email.map(Into::into),
            expires_in_days: days,
            replace: None,
            resend: None,
        }
    }

    #[test]
    fn defaults_are_left_to_the_database() {
        let valid = input(None, None).validate().unwrap();
        assert_eq!(
            valid,
            ValidInvitation {
                profile_id: Uuid::parse_str(PROFILE).unwrap(),
                email: None,
                expires_in_days: None,
                replace: false,
                resend: false,
            }
        );
    }

    #[test]
    fn resend_takes_nothing_else() {
        let only = InvitationInput {
            resend: Some(true),
            ..input(None, None)
        };
        assert!(only.validate().unwrap().resend);
        for with_more in [
            InvitationInput {
                resend: Some(true),
                ..input(Some("a@b.co"), None)
            },
            InvitationInput {
                resend: Some(true),
                ..input(None, Some(3))
            },
            InvitationInput {
                resend: Some(true),
                replace: Some(true),
                ..input(None, None)
            },
        ] {
            let err = with_more.validate().unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_resend"));
        }
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let valid = input(Some("  Ada.Lovelace+x@Example.COM "), Some(30))
            .validate()
            .unwrap();
        assert_eq!(valid.email.as_deref(), Some("ada.lovelace+x@example.com"));
        assert_eq!(valid.expires_in_days, Some(30));
    }

    #[test]
    fn implausible_emails_are_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_domain = format!("a@{}.com", "b".repeat(260));
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "ada lovelace@example.com",
            "ada@exa mple.com",
            ".ada@example.com",
            "ada..l@example.com",
            "ada@-example.com",
            "ada@example..com",
            "a<b>@example.com",
            &long_local,
            &long_domain,
        ] {
            let err = input(Some(bad), None).validate().unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_email"), "{bad}");
        }
    }

    #[test]
    fn expiry_is_one_to_thirty_days() {
        for days in [1, 7, 30] {
            assert!(input(None, Some(days)).validate().is_ok());
        }
        for days in [0, -1, 31, 365] {
            let err = input(None, Some(days)).validate().unwrap_err();
            assert_eq!((err.status(), err.code()), (400, "invalid_expiry"));
            assert!(err.message().contains(&days.to_string()));
        }
    }

    #[test]
    fn ids_must_be_uuids() {
        let err = InvitationInput {
            profile_id: "42".into(),
            ..input(None, None)
        }
        .validate()
        .unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "invalid_profile_id"));
        assert_eq!(
            parse_uuid("id", "not-a-uuid").unwrap_err().code(),
            "invalid_id"
        );
        assert!(parse_uuid("id", PROFILE).is_ok());
    }
}
