//! The rules of a tenant connection, in one place for both functions that touch one:
//! save-connection checks them before it writes a connection, and tenant-proxy checks them
//! again on the stored row before every request it relays, so a row written some other way (an
//! older version, SQL) is refused rather than fetched.
//!
//! * [`TenantUrl`]: a URL tenant-proxy may send a tenant's service key to — an `https` origin
//!   on a public host (never an address of IANA's special-purpose blocks,
//!   [`special_purpose_block`]).
//! * [`ConnectionKeyAad`]: what a connection's key envelopes are bound to (owner, name, URL and
//!   field, [`KeyBinding`]), so an envelope opens only for the row and the URL it was sealed for.
#![forbid(unsafe_code)]

mod key_binding;
mod special_addresses;
mod tenant_url;

pub use key_binding::{ConnectionKeyAad, KeyBinding, KeyRole};
pub use special_addresses::special_purpose_block;
pub use tenant_url::{LOOPBACK_SWITCH, TenantUrl, TenantUrlError, loopback_allowed};
