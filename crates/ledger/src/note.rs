//! C2SP signed-note: a UTF-8 text signed by one or more Ed25519 keys, and the
//! key encodings (`vkey` = `name+hexkeyid+base64(0x01||pubkey)`, private
//! `PRIVATE+KEY+name+hexkeyid+base64(0x01||seed)` as Go's `note` package
//! writes them).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Signature algorithm byte for Ed25519 in signed-note key ids and encodings.
const ALG_ED25519: u8 = 0x01;
/// Bounds a note's signature lines, as Go's `note` package does.
const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";

/// The 4-byte key id: the first bytes of SHA-256(name || 0x0A || 0x01 || pubkey).
pub fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(Error::invalid(
            "key name",
            format!("{name:?} must be non-empty without spaces or '+'"),
        ));
    }
    Ok(())
}

/// An Ed25519 signing key with its note name.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    id: [u8; 4],
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("id", &hex::encode(self.id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self> {
        check_name(name)?;
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Ok(Self::from_key(name, key))
    }

    /// A key from a 32-byte seed (tests and fixtures).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self> {
        check_name(name)?;
        Ok(Self::from_key(name, SigningKey::from_bytes(&seed)))
    }

    fn from_key(name: &str, key: SigningKey) -> Self {
        let id = key_id(name, key.verifying_key().as_bytes());
        Self {
            name: name.to_string(),
            id,
            key,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The private key text `PRIVATE+KEY+name+hexid+base64(0x01||seed)`.
    pub fn to_skey(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(raw)
        )
    }

    /// Parses [`to_skey`](Self::to_skey) output.
    pub fn from_skey(text: &str) -> Result<Self> {
        let bad = |r: &str| Error::invalid("private key", r.to_string());
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("missing PRIVATE+KEY+ prefix"))?;
        let (name, id, raw) = split_key(rest).ok_or_else(|| bad("expected name+id+key"))?;
        let raw = B64.decode(raw).map_err(|e| bad(&e.to_string()))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let seed: [u8; 32] = raw[1..].try_into().expect("length checked");
        let signer = Self::from_seed(name, seed)?;
        if hex::encode(signer.id) != id {
            return Err(bad("key id does not match the key"));
        }
        Ok(signer)
    }

    fn sign(&self, text: &[u8]) -> String {
        let sig = self.key.sign(text);
        let mut raw = self.id.to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

fn split_key(rest: &str) -> Option<(&str, &str, &str)> {
    let mut parts = rest.splitn(3, '+');
    let name = parts.next()?;
    let id = parts.next()?;
    let key = parts.next()?;
    (id.len() == 8).then_some((name, id, key))
}

/// An Ed25519 public key with its note name: what a verifier holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The verifier key text `name+hexid+base64(0x01||pubkey)`.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(raw))
    }

    /// Parses a verifier key, checking that its id matches name and key.
    pub fn from_vkey(text: &str) -> Result<Self> {
        let bad = |r: &str| Error::invalid("verifier key", r.to_string());
        let (name, id, raw) = split_key(text.trim()).ok_or_else(|| bad("expected name+id+key"))?;
        check_name(name)?;
        let raw = B64.decode(raw).map_err(|e| bad(&e.to_string()))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("not an Ed25519 key"));
        }
        let public: [u8; 32] = raw[1..].try_into().expect("length checked");
        let key = VerifyingKey::from_bytes(&public).map_err(|e| bad(&e.to_string()))?;
        let computed = key_id(name, &public);
        if hex::encode(computed) != id {
            return Err(bad("key id does not match name and key"));
        }
        Ok(Self {
            name: name.to_string(),
            id: computed,
            key,
        })
    }

    fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(text, &sig).is_ok()
    }
}

fn check_text(text: &str) -> Result<()> {
    if !text.ends_with('\n') {
        return Err(Error::invalid("note", "text must end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid("note", "text holds control characters"));
    }
    Ok(())
}

/// Signs `text` (which must end with a newline) with every signer.
pub fn sign(text: &str, signers: &[NoteSigner]) -> Result<String> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(Error::invalid("note", "no signing key"));
    }
    let mut out = String::with_capacity(text.len() + 128 * signers.len());
    out.push_str(text);
    out.push('\n');
    for s in signers {
        out.push_str(&s.sign(text.as_bytes()));
    }
    Ok(out)
}

/// A note whose signature by at least one known key verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    /// The signed text, ending with a newline.
    pub text: String,
    /// Names of the known keys whose signatures verified.
    pub signed_by: Vec<String>,
}

/// Opens a signed note: at least one signature must come from one of
/// `verifiers` and verify; a signature that claims a known key but does not
/// verify is an error (a forgery); signatures by unknown keys are ignored.
pub fn open(msg: &str, verifiers: &[NoteVerifier]) -> Result<VerifiedNote> {
    let split = msg
        .rfind("\n\n")
        .ok_or_else(|| Error::invalid("note", "no blank line before the signatures"))?;
    let text = &msg[..split + 1];
    check_text(text)?;
    let sigs = &msg[split + 2..];
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(Error::invalid("note", "malformed signature block"));
    }
    let mut signed_by = Vec::new();
    for (n, line) in sigs.lines().enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(Error::invalid("note", "too many signatures"));
        }
        let body = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| Error::invalid("note", format!("malformed signature line {line:?}")))?;
        let (name, b64) = body
            .split_once(' ')
            .ok_or_else(|| Error::invalid("note", format!("malformed signature line {line:?}")))?;
        let raw = B64
            .decode(b64)
            .map_err(|e| Error::invalid("note", format!("signature not base64: {e}")))?;
        if raw.len() < 5 {
            return Err(Error::invalid("note", "signature too short"));
        }
        let (id, sig) = raw.split_at(4);
        for v in verifiers {
            if v.name == name && v.id == id {
                if !v.verify(text.as_bytes(), sig) {
                    return Err(Error::verification(format!(
                        "signature by key {name}+{} does not verify",
                        hex::encode(v.id)
                    )));
                }
                signed_by.push(name.to_string());
            }
        }
    }
    if signed_by.is_empty() {
        return Err(Error::verification(
            "the note carries no signature by a known key",
        ));
    }
    Ok(VerifiedNote {
        text: text.to_string(),
        signed_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_and_ids_match() {
        let s = NoteSigner::from_seed("example.com/log", [7; 32]).unwrap();
        let back = NoteSigner::from_skey(&s.to_skey()).unwrap();
        assert_eq!(back.key_id(), s.key_id());
        let v = NoteVerifier::from_vkey(&s.verifier().to_vkey()).unwrap();
        assert_eq!(v, s.verifier());
        // A key id that does not match is refused.
        let vkey = s.verifier().to_vkey();
        let tampered = vkey.replacen(&hex::encode(s.key_id()), "00000000", 1);
        assert!(NoteVerifier::from_vkey(&tampered).is_err());
    }

    #[test]
    fn signed_note_opens_and_forgeries_fail() {
        let s = NoteSigner::from_seed("example.com/log", [1; 32]).unwrap();
        let other = NoteSigner::from_seed("example.com/log", [2; 32]).unwrap();
        let msg = sign("hello\nworld\n", std::slice::from_ref(&s)).unwrap();
        let opened = open(&msg, &[s.verifier()]).unwrap();
        assert_eq!(opened.text, "hello\nworld\n");
        // Unknown key only: refused.
        assert!(matches!(
            open(&msg, &[other.verifier()]),
            Err(Error::Verification(_))
        ));
        // Text changed after signing: refused.
        let forged = msg.replacen("world", "worle", 1);
        assert!(matches!(
            open(&forged, &[s.verifier()]),
            Err(Error::Verification(_))
        ));
        // Text without trailing newline cannot be signed.
        assert!(sign("no newline", &[s]).is_err());
    }
}

#[cfg(test)]
mod known_answers {
    //! Vectors published with golang.org/x/mod/sumdb/note and the C2SP
    //! signed-note specification (data only).
    use super::*;

    const GO_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn signing_reproduces_the_go_reference_note_byte_for_byte() {
        let signer = NoteSigner::from_skey(GO_SKEY).unwrap();
        assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
        assert_eq!(signer.to_skey(), GO_SKEY);
        let msg = sign(GO_TEXT, &[signer]).unwrap();
        assert_eq!(msg, format!("{GO_TEXT}\n{GO_SIG}"));
        let v = NoteVerifier::from_vkey(GO_VKEY).unwrap();
        assert_eq!(open(&msg, &[v]).unwrap().text, GO_TEXT);
    }

    #[test]
    fn the_spec_example_note_verifies() {
        let v = NoteVerifier::from_vkey(
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        )
        .unwrap();
        let msg = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        let opened = open(msg, &[v]).unwrap();
        assert_eq!(opened.text, "This is an example message.\n");
        assert_eq!(opened.signed_by, vec!["example.com/foo".to_string()]);
    }
}
