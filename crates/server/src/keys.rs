//! API key secrets: generated from the OS random source, shown once, stored
//! as a SHA-256 hash. Format: `hc_` followed by 43 URL-safe base64 characters
//! (32 random bytes), recognisable by secret scanners.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hc_domain::{ApiKeyId, ApiKeyRecord, Role, TenantId, now_ms};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "hc_";

/// The hash under which a key is stored and looked up.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A freshly issued key: the secret (show once) and its record.
pub struct IssuedKey {
    pub secret: String,
    pub record: ApiKeyRecord,
    pub hash: String,
}

/// Generates a new key for a tenant and role. The caller stores `record` with `hash`.
pub fn issue_key(
    tenant: &TenantId,
    role: Role,
    label: &str,
    rate_limit_per_sec: Option<u32>,
) -> IssuedKey {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let mut id_bytes = [0u8; 9];
    OsRng.fill_bytes(&mut id_bytes);
    let id =
        ApiKeyId::parse(format!("key_{}", URL_SAFE_NO_PAD.encode(id_bytes))).expect("valid id");
    IssuedKey {
        hash: hash_key(&secret),
        record: ApiKeyRecord {
            id,
            tenant_id: tenant.clone(),
            role,
            label: label.to_string(),
            prefix: secret.chars().take(8).collect(),
            rate_limit_per_sec,
            created_at_ms: now_ms(),
            revoked_at_ms: None,
        },
        secret,
    }
}

/// Whether a presented token has the shape of one of our keys.
pub fn looks_like_key(token: &str) -> bool {
    token.len() >= KEY_PREFIX.len() + 32
        && token.len() <= 128
        && token.starts_with(KEY_PREFIX)
        && token[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_url_safe_unique_and_hashed() {
        let t = TenantId::parse("demo").unwrap();
        let a = issue_key(&t, Role::Admin, "a", None);
        let b = issue_key(&t, Role::Admin, "b", None);
        assert!(a.secret.starts_with("hc_"));
        assert!(a.secret.len() >= 3 + 32);
        assert!(looks_like_key(&a.secret));
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.hash, hash_key(&a.secret));
        assert!(!a.hash.contains(&a.secret));
        assert!(!looks_like_key("hc_short"));
        assert!(!looks_like_key(&format!("hc_{}", "x/".repeat(20))));
    }
}
