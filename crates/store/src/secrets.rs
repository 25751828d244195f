//! Tenant secrets at rest: the auth tokens and passwords of a tenant's own
//! Twilio and Postmark accounts are sealed with XChaCha20-Poly1305 before
//! they reach the database, under a key the operator holds outside it
//! (`<data-dir>/secrets.key`, or `HC_SECRETS_KEY`). A stolen database file
//! or backup then holds no usable credential.
//!
//! A sealed value is `enc:v1:` + base64(24-byte nonce ‖ ciphertext ‖ tag);
//! the tenant id and the secret's name are authenticated with it, so a value
//! copied to another tenant or field does not open. A value stored before
//! sealing existed (no prefix) is read as it is and sealed on the next write.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hc_domain::TenantId;
use hc_domain::channels::{ChannelSettings, Secret};

use crate::error::{Error, Result};

const PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 24;

/// The 256-bit key tenant secrets are sealed with.
#[derive(Clone)]
pub struct SecretsKey(Key);

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey([redacted])")
    }
}

impl SecretsKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The key from its base64 text (32 bytes).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| Error::Unavailable(format!("the secrets key is not base64: {e}")))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            Error::Unavailable(format!("the secrets key must be 32 bytes, not {}", b.len()))
        })?;
        Ok(Self(Key::from(bytes)))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(AsRef::<[u8]>::as_ref(&self.0))
    }

    /// Reads the key file at `path`, creating it (readable by its owner
    /// only) with a new key when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(path, &key.to_base64())?;
                Ok(key)
            }
            Err(e) => Err(Error::Unavailable(format!(
                "cannot read the secrets key {}: {e}",
                path.display()
            ))),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0)
    }

    /// Seals `plain` for `tenant`'s secret `name`.
    pub fn seal(&self, tenant: &TenantId, name: &str, plain: &str) -> Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = aad(tenant, name);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Unavailable("cannot seal a secret".into()))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens a value sealed by [`SecretsKey::seal`]; a value without the
    /// prefix (stored before sealing) is returned as it is.
    pub fn open(&self, tenant: &TenantId, name: &str, stored: &str) -> Result<String> {
        let Some(b64) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| Error::Corrupt(format!("{name}: a sealed secret is not base64")))?;
        if bytes.len() <= NONCE_BYTES {
            return Err(Error::Corrupt(format!(
                "{name}: a sealed secret is truncated"
            )));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().expect("split at the nonce length");
        let plain = self
            .cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad(tenant, name),
                },
            )
            .map_err(|_| {
                Error::Corrupt(format!(
                    "{name}: the secret does not open with this secrets key (another key, or altered)"
                ))
            })?;
        String::from_utf8(plain).map_err(|_| Error::Corrupt(format!("{name}: not UTF-8")))
    }
}

fn aad(tenant: &TenantId, name: &str) -> Vec<u8> {
    format!("hypercommerce/tenant-secret/v1\n{tenant}\n{name}").into_bytes()
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let fail =
        |e: std::io::Error| Error::Unavailable(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| Error::Unavailable(format!("cannot write {}: {e}", path.display())))
}

/// Each secret of `channels` with its name.
fn secrets_mut(channels: &mut ChannelSettings) -> Vec<(&'static str, &mut Secret)> {
    let mut out = Vec::new();
    if let Some(t) = &mut channels.twilio {
        out.push(("channels.twilio.auth_token", &mut t.auth_token));
    }
    if let Some(p) = &mut channels.postmark {
        out.push(("channels.postmark.server_token", &mut p.server_token));
        out.push((
            "channels.postmark.inbound_password",
            &mut p.inbound_password,
        ));
    }
    out
}

/// Seals every secret of `channels` in place.
pub(crate) fn seal_channels(
    key: &SecretsKey,
    tenant: &TenantId,
    channels: &mut ChannelSettings,
) -> Result<()> {
    for (name, secret) in secrets_mut(channels) {
        if let Secret::Value(v) = secret
            && !v.starts_with(PREFIX)
        {
            *v = key.seal(tenant, name, v)?;
        }
    }
    Ok(())
}

/// Opens every secret of `channels` in place.
pub(crate) fn open_channels(
    key: &SecretsKey,
    tenant: &TenantId,
    channels: &mut ChannelSettings,
) -> Result<()> {
    for (name, secret) in secrets_mut(channels) {
        if let Secret::Value(v) = secret {
            *v = key.open(tenant, name, v)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_tenant_field_and_key() {
        let key = SecretsKey::generate();
        let sealed = key.seal(&tenant("shop"), "a", "tok_123").unwrap();
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("tok_123"));
        assert_eq!(key.open(&tenant("shop"), "a", &sealed).unwrap(), "tok_123");
        assert!(
            key.open(&tenant("other"), "a", &sealed).is_err(),
            "tenant bound"
        );
        assert!(
            key.open(&tenant("shop"), "b", &sealed).is_err(),
            "field bound"
        );
        let other = SecretsKey::generate();
        assert!(
            other.open(&tenant("shop"), "a", &sealed).is_err(),
            "key bound"
        );
        let mut tampered = sealed.clone();
        tampered.replace_range(PREFIX.len() + 40..PREFIX.len() + 41, "A");
        if tampered != sealed {
            assert!(key.open(&tenant("shop"), "a", &tampered).is_err());
        }
        // Two seals of one value differ (fresh nonce).
        assert_ne!(sealed, key.seal(&tenant("shop"), "a", "tok_123").unwrap());
        // Stored before sealing existed: read as is.
        assert_eq!(key.open(&tenant("shop"), "a", "plain").unwrap(), "plain");
    }

    #[test]
    fn the_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let a = SecretsKey::load_or_create(&path).unwrap();
        let b = SecretsKey::load_or_create(&path).unwrap();
        assert_eq!(a.to_base64(), b.to_base64());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(SecretsKey::from_base64("c2hvcnQ=").is_err(), "too short");
    }
}
