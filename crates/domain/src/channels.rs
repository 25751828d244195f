//! A merchant's own channel accounts: the Twilio account and numbers its SMS
//! and calls arrive on, the Postmark server and addresses of its email, and
//! where escalated calls are transferred. Part of [`crate::TenantSettings`]
//! (`channels`); absent, the server's `[server.channels]` configuration
//! applies.
//!
//! Secrets (auth tokens, passwords) are [`Secret`]s: their `Debug` never shows
//! the value, and the API reads them back redacted as `{"set": true}`. A
//! settings document sent back with `{"set": true}` in place of a secret keeps
//! the stored value ([`crate::TenantSettings::keep_secrets_from`]).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A credential. `Kept` is the redacted form: what reads return, and what a
/// write sends to keep the stored value.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Value(String),
    Kept,
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self::Value(value.into())
    }

    /// The value; `None` for the redacted form.
    pub fn expose(&self) -> Option<&str> {
        match self {
            Self::Value(v) => Some(v),
            Self::Kept => None,
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Stored as the plain string; the redacted form as `{"set": true}`.
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Self::Value(v) => s.serialize_str(v),
            Self::Kept => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("set", &true)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Marker {
            set: bool,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Value(String),
            Marker(Marker),
        }
        match Raw::deserialize(d).map_err(|_| {
            D::Error::custom(r#"a secret is a string, or {"set": true} to keep the stored one"#)
        })? {
            Raw::Value(v) => Ok(Self::Value(v)),
            Raw::Marker(Marker { set: true }) => Ok(Self::Kept),
            Raw::Marker(Marker { set: false }) => Err(D::Error::custom(
                r#"to remove a secret, leave its section out; {"set": true} keeps the stored one"#,
            )),
        }
    }
}

/// The merchant's Twilio account: inbound SMS and calls are signed with its
/// auth token, replies are sent with its account SID and token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioSettings {
    /// `AC` followed by 32 hexadecimal digits.
    pub account_sid: String,
    pub auth_token: Secret,
    /// The merchant's numbers (E.164), 1 to 10: inbound webhooks on the shared
    /// path are routed by the number called, replies are sent from them.
    pub phone_numbers: Vec<String>,
}

/// The merchant's Postmark server: replies are sent with its server token from
/// `from`; its inbound webhook authenticates with `inbound_user` /
/// `inbound_password`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostmarkSettings {
    pub server_token: Secret,
    /// Sender address of replies (a Postmark sender signature or domain).
    pub from: String,
    /// Addresses customers write to (0 to 10), for routing on the shared
    /// inbound path; `from` always counts as one.
    #[serde(default)]
    pub inbound_addresses: Vec<String>,
    pub inbound_user: String,
    pub inbound_password: Secret,
}

/// A merchant's channel settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twilio: Option<TwilioSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postmark: Option<PostmarkSettings>,
    /// Where an escalated call is transferred (E.164).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voice_handoff_number: Option<String>,
}

impl ChannelSettings {
    pub const MAX_NUMBERS: usize = 10;
    pub const MAX_SECRET_CHARS: usize = 200;

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The phone numbers and (lowercased) email addresses this merchant
    /// receives on: unique across tenants.
    pub fn addresses(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(t) = &self.twilio {
            out.extend(t.phone_numbers.iter().cloned());
        }
        if let Some(p) = &self.postmark {
            out.push(p.from.to_lowercase());
            out.extend(p.inbound_addresses.iter().map(|a| a.to_lowercase()));
        }
        out.sort();
        out.dedup();
        out
    }

    /// Checks every field; the error names the first bad one. A `{"set": true}`
    /// left unresolved is an error here.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::invalid("settings", reason));
        if let Some(t) = &self.twilio {
            let sid = &t.account_sid;
            if !(sid.len() == 34
                && sid.starts_with("AC")
                && sid[2..].bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return bad(
                    "channels.twilio.account_sid must be AC followed by 32 hexadecimal digits"
                        .into(),
                );
            }
            check_secret(&t.auth_token, "channels.twilio.auth_token")?;
            if t.phone_numbers.is_empty() || t.phone_numbers.len() > Self::MAX_NUMBERS {
                return bad(format!(
                    "channels.twilio.phone_numbers must hold 1 to {} numbers",
                    Self::MAX_NUMBERS
                ));
            }
            for n in &t.phone_numbers {
                if !is_e164(n) {
                    return bad(format!(
                        "channels.twilio.phone_numbers: {n:?} is not an E.164 number like +14155550100"
                    ));
                }
            }
        }
        if let Some(p) = &self.postmark {
            check_secret(&p.server_token, "channels.postmark.server_token")?;
            check_secret(&p.inbound_password, "channels.postmark.inbound_password")?;
            if !is_email(&p.from) {
                return bad(format!(
                    "channels.postmark.from: {:?} is not an email address",
                    p.from
                ));
            }
            if p.inbound_addresses.len() > Self::MAX_NUMBERS {
                return bad(format!(
                    "channels.postmark.inbound_addresses holds at most {} addresses",
                    Self::MAX_NUMBERS
                ));
            }
            for a in &p.inbound_addresses {
                if !is_email(a) {
                    return bad(format!(
                        "channels.postmark.inbound_addresses: {a:?} is not an email address"
                    ));
                }
            }
            let user = &p.inbound_user;
            if user.is_empty()
                || user.len() > 100
                || user.contains(':')
                || user.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return bad(
                    "channels.postmark.inbound_user must be 1 to 100 characters without ':' or spaces"
                        .into(),
                );
            }
        }
        if let Some(n) = &self.voice_handoff_number
            && !is_e164(n)
        {
            return bad(format!(
                "channels.voice_handoff_number: {n:?} is not an E.164 number like +14155550100"
            ));
        }
        Ok(())
    }

    /// The same settings with every secret redacted.
    pub fn redacted(&self) -> Self {
        let mut out = self.clone();
        if let Some(t) = &mut out.twilio {
            t.auth_token = Secret::Kept;
        }
        if let Some(p) = &mut out.postmark {
            p.server_token = Secret::Kept;
            p.inbound_password = Secret::Kept;
        }
        out
    }

    /// Replaces each `{"set": true}` with the secret in `stored`; an error
    /// names a secret to keep that was never stored.
    pub fn keep_secrets_from(&mut self, stored: &ChannelSettings) -> Result<()> {
        fn keep(s: &mut Secret, stored: Option<&Secret>, name: &str) -> Result<()> {
            if *s == Secret::Kept {
                match stored {
                    Some(Secret::Value(v)) => *s = Secret::Value(v.clone()),
                    _ => {
                        return Err(Error::invalid(
                            "settings",
                            format!("{name} is {{\"set\": true}} but no value is stored"),
                        ));
                    }
                }
            }
            Ok(())
        }
        if let Some(t) = &mut self.twilio {
            let old = stored.twilio.as_ref();
            keep(
                &mut t.auth_token,
                old.map(|o| &o.auth_token),
                "channels.twilio.auth_token",
            )?;
        }
        if let Some(p) = &mut self.postmark {
            let old = stored.postmark.as_ref();
            keep(
                &mut p.server_token,
                old.map(|o| &o.server_token),
                "channels.postmark.server_token",
            )?;
            keep(
                &mut p.inbound_password,
                old.map(|o| &o.inbound_password),
                "channels.postmark.inbound_password",
            )?;
        }
        Ok(())
    }
}

fn check_secret(s: &Secret, name: &str) -> Result<()> {
    match s {
        Secret::Kept => Err(Error::invalid(
            "settings",
            format!("{name} is {{\"set\": true}} but no value is stored"),
        )),
        Secret::Value(v)
            if v.is_empty()
                || v.chars().count() > ChannelSettings::MAX_SECRET_CHARS
                || v.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            Err(Error::invalid(
                "settings",
                format!(
                    "{name} must be 1 to {} characters without spaces",
                    ChannelSettings::MAX_SECRET_CHARS
                ),
            ))
        }
        Secret::Value(_) => Ok(()),
    }
}

/// `+` then 7 to 15 digits, the first not 0.
pub fn is_e164(n: &str) -> bool {
    let Some(digits) = n.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A plausible single address: `local@domain.tld`, no spaces or brackets.
pub fn is_email(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && a.len() <= 254
        && !a.contains(|c: char| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twilio() -> serde_json::Value {
        serde_json::json!({
            "account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": "s3cr3t-value",
            "phone_numbers": ["+15005550006"]
        })
    }

    #[test]
    fn secrets_never_show_in_debug_and_redact_to_set_true() {
        let s: ChannelSettings =
            serde_json::from_value(serde_json::json!({"twilio": twilio()})).unwrap();
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(s.validate().is_ok());
        let shown = serde_json::to_value(s.redacted()).unwrap();
        assert_eq!(
            shown["twilio"]["auth_token"],
            serde_json::json!({"set": true})
        );
        // Stored form keeps the value.
        assert_eq!(
            serde_json::to_value(&s).unwrap()["twilio"]["auth_token"],
            "s3cr3t-value"
        );
    }

    #[test]
    fn set_true_keeps_the_stored_secret_or_is_refused() {
        let stored: ChannelSettings =
            serde_json::from_value(serde_json::json!({"twilio": twilio()})).unwrap();
        let mut again = stored.redacted();
        again.keep_secrets_from(&stored).unwrap();
        assert_eq!(again, stored);
        let mut fresh = stored.redacted();
        assert!(
            fresh
                .keep_secrets_from(&ChannelSettings::default())
                .is_err()
        );
        assert!(fresh.validate().is_err(), "an unresolved marker is invalid");
        let bad = serde_json::json!({"twilio": {"account_sid": "AC0123456789abcdef0123456789abcdef",
            "auth_token": {"set": false}, "phone_numbers": ["+15005550006"]}});
        assert!(serde_json::from_value::<ChannelSettings>(bad).is_err());
    }

    #[test]
    fn bad_accounts_numbers_and_addresses_are_refused() {
        let mut t = twilio();
        for (field, value) in [
            ("account_sid", serde_json::json!("AC123")),
            (
                "account_sid",
                serde_json::json!("XX0123456789abcdef0123456789abcdef"),
            ),
            ("auth_token", serde_json::json!("")),
            ("auth_token", serde_json::json!("a b")),
            ("phone_numbers", serde_json::json!([])),
            ("phone_numbers", serde_json::json!(["4155550100"])),
            ("phone_numbers", serde_json::json!(["+1 415 555 0100"])),
        ] {
            let saved = t[field].clone();
            t[field] = value;
            let s: ChannelSettings =
                serde_json::from_value(serde_json::json!({"twilio": t.clone()})).unwrap();
            assert!(s.validate().is_err(), "{field}: {}", t[field]);
            t[field] = saved;
        }
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("+04155550100"));
        assert!(is_email("help@shop.example"));
        assert!(!is_email("help@shop"));
        assert!(!is_email("a b@shop.example"));
    }
}
