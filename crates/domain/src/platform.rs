//! Platform records around the retail model: tenants (merchants), operator
//! roles, API keys and the audit log.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{ApiKeyId, TenantId};

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
}
