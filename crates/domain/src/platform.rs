//! Platform records around the retail model: tenants (merchants), operator
//! roles, API keys and the audit log.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{ApiKeyId, OperatorId, TenantId};

/// A merchant. Every piece of retail data belongs to exactly one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at_ms: i64,
}

/// What a caller may do. Ordered: each role can do everything the roles below it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Posts behavior events only (the shop's public tracker key, see
    /// `/t.js`): no reads, no other writes.
    Tracker,
    /// Reads only.
    Viewer,
    /// Runs the agent's tools (reads and retail actions).
    Agent,
    /// Manages the catalog.
    Manager,
    /// Manages API keys.
    Admin,
    /// Everything, including the tenant itself.
    Owner,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Tracker,
        Role::Viewer,
        Role::Agent,
        Role::Manager,
        Role::Admin,
        Role::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Tracker => "tracker",
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Whether this role includes the rights of `required`.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "role",
                    "expected owner, admin, manager, agent, viewer or tracker",
                )
            })
    }
}

/// A stored API key. The secret itself is never stored, only its SHA-256 hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub role: Role,
    pub label: String,
    /// The first characters of the key, to recognise it in listings.
    pub prefix: String,
    /// Requests per second this key may make; `None` uses the server default.
    pub rate_limit_per_sec: Option<u32>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// One write, as the audit log keeps it: who did what to which record, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub tenant_id: TenantId,
    /// The acting principal, e.g. `key:<id>` or `cli`.
    pub actor: String,
    /// What was done, e.g. `tool.cancel_pending_order` or `product.update`.
    pub action: String,
    /// The record acted on, e.g. `order:#W0000001`.
    pub target: String,
    pub at_ms: i64,
    /// Arguments or other context, as JSON.
    pub detail: serde_json::Value,
}

/// A person who signs in to the dashboard: one tenant, one role. The
/// password hash lives only in the store, never in this record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: OperatorId,
    pub tenant_id: TenantId,
    /// Lowercased, trimmed; unique within the tenant.
    pub email: String,
    pub role: Role,
    pub created_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at_ms: Option<i64>,
}

impl Operator {
    /// Longest accepted email address (RFC 5321's path limit).
    pub const MAX_EMAIL: usize = 254;

    /// An operator's sign-in email: trimmed and lowercased, one `@` with text
    /// on both sides, a dot in the domain, no spaces or control characters.
    pub fn normalize_email(raw: &str) -> Result<String, Error> {
        let email = raw.trim().to_lowercase();
        let bad = |why: &str| Error::invalid("email", why);
        if email.is_empty() || email.len() > Self::MAX_EMAIL {
            return Err(bad("must be 1 to 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces"));
        }
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.') =>
            {
                Ok(email)
            }
            _ => Err(bad("must look like name@example.com")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rights() {
        assert!(Role::Owner.allows(Role::Admin));
        assert!(Role::Manager.allows(Role::Agent));
        assert!(!Role::Viewer.allows(Role::Agent));
        assert!(!Role::Agent.allows(Role::Manager));
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::Tracker.allows(Role::Viewer));
        assert!(Role::Viewer.allows(Role::Tracker));
        assert_eq!("tracker".parse::<Role>().unwrap(), Role::Tracker);
    }

    #[test]
    fn operator_emails_are_folded_and_checked() {
        assert_eq!(
            Operator::normalize_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "", "ada", "ada@", "@x.io", "a b@x.io", "a@x", "a@@x.io", "a@x.io.",
        ] {
            assert!(Operator::normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(Operator::normalize_email(&format!("{}@x.io", "a".repeat(260))).is_err());
    }
}
