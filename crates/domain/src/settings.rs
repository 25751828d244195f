//! A merchant's agent settings: the brand voice the agent speaks with and the
//! policy parameters SPEC §5 lets a merchant adjust (cancel reasons, refunds
//! to a gift card, escalation thresholds). Stored per tenant; absent fields
//! take the defaults below.

use serde::{Deserialize, Serialize};

use crate::channels::ChannelSettings;
use crate::error::{Error, Result};

/// How the agent speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    #[default]
    Friendly,
    Formal,
}

/// When the offline agent hands a conversation to a human.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationSettings {
    /// Below this NLU confidence (0..1) a message is not acted on.
    pub min_confidence: f32,
    /// Turns without progress (1..10) before a human takes over.
    pub max_failures: u32,
    /// Out-of-scope requests (1..10) before a human takes over.
    pub max_out_of_scope: u32,
}

impl EscalationSettings {
    pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.35;
    pub const DEFAULT_MAX_FAILURES: u32 = 3;
    pub const DEFAULT_MAX_OUT_OF_SCOPE: u32 = 2;
}

impl Default for EscalationSettings {
    fn default() -> Self {
        Self {
            min_confidence: Self::DEFAULT_MIN_CONFIDENCE,
            max_failures: Self::DEFAULT_MAX_FAILURES,
            max_out_of_scope: Self::DEFAULT_MAX_OUT_OF_SCOPE,
        }
    }
}

/// One tenant's agent settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantSettings {
    /// The shop's name in replies; default: the tenant's display name.
    pub brand: Option<String>,
    pub tone: Tone,
    /// Replaces the opening line of a conversation (at most 300 characters).
    pub greeting: Option<String>,
    /// Reasons a customer may give to cancel a pending order; default: the server's.
    pub cancel_reasons: Option<Vec<String>>,
    /// Whether a return may be refunded to a gift card (else only to the
    /// order's original payment method).
    pub refund_to_gift_card: bool,
    pub escalation: EscalationSettings,
    /// The merchant's own Twilio and Postmark accounts (secrets redacted on
    /// reads); empty: the server's configuration applies.
    #[serde(skip_serializing_if = "ChannelSettings::is_empty")]
    pub channels: ChannelSettings,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            brand: None,
            tone: Tone::Friendly,
            greeting: None,
            cancel_reasons: None,
            refund_to_gift_card: true,
            escalation: EscalationSettings::default(),
            channels: ChannelSettings::default(),
        }
    }
}

impl TenantSettings {
    pub const MAX_BRAND_CHARS: usize = 100;
    pub const MAX_GREETING_CHARS: usize = 300;
    pub const MAX_REASON_CHARS: usize = 60;
    pub const MAX_REASONS: usize = 20;

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Err(Error::invalid("settings", reason));
        if let Some(b) = &self.brand {
            let n = b.trim().chars().count();
            if n == 0 || n > Self::MAX_BRAND_CHARS || b.chars().any(char::is_control) {
                return bad(format!(
                    "brand must be 1 to {} characters without control characters",
                    Self::MAX_BRAND_CHARS
                ));
            }
        }
        if let Some(g) = &self.greeting {
            let n = g.trim().chars().count();
            if n == 0 || n > Self::MAX_GREETING_CHARS {
                return bad(format!(
                    "greeting must be 1 to {} characters",
                    Self::MAX_GREETING_CHARS
                ));
            }
        }
        if let Some(reasons) = &self.cancel_reasons {
            if reasons.is_empty() || reasons.len() > Self::MAX_REASONS {
                return bad(format!(
                    "cancel_reasons must hold 1 to {} reasons",
                    Self::MAX_REASONS
                ));
            }
            for r in reasons {
                let n = r.trim().chars().count();
                if n == 0 || n > Self::MAX_REASON_CHARS || r.trim() != r {
                    return bad(format!(
                        "each cancel reason must be 1 to {} characters without surrounding spaces, got {r:?}",
                        Self::MAX_REASON_CHARS
                    ));
                }
            }
        }
        let e = &self.escalation;
        if !(0.0..=1.0).contains(&e.min_confidence) {
            return bad("escalation.min_confidence must be between 0 and 1".into());
        }
        if !(1..=10).contains(&e.max_failures) {
            return bad("escalation.max_failures must be between 1 and 10".into());
        }
        if !(1..=10).contains(&e.max_out_of_scope) {
            return bad("escalation.max_out_of_scope must be between 1 and 10".into());
        }
        self.channels.validate()
    }

    /// The same settings with every secret shown as `{"set": true}`: what the
    /// API returns and the audit log records.
    pub fn redacted(&self) -> Self {
        Self {
            channels: self.channels.redacted(),
            ..self.clone()
        }
    }

    /// Resolves each `{"set": true}` secret to the one in `stored` (see
    /// [`ChannelSettings::keep_secrets_from`]).
    pub fn keep_secrets_from(&mut self, stored: &TenantSettings) -> Result<()> {
        self.channels.keep_secrets_from(&stored.channels)
    }

    /// These settings with the defaults that depend on the deployment filled
    /// in: the brand from the tenant's name, the cancel reasons from the server's.
    pub fn effective(mut self, tenant_name: &str, default_cancel_reasons: &[String]) -> Self {
        self.brand.get_or_insert_with(|| tenant_name.to_string());
        self.cancel_reasons
            .get_or_insert_with(|| default_cancel_reasons.to_vec());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> TenantSettings {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn absent_fields_take_the_defaults() {
        let s = parse(r#"{"tone": "formal"}"#);
        assert_eq!(s.tone, Tone::Formal);
        assert!(s.refund_to_gift_card);
        assert_eq!(s.escalation.max_failures, 3);
        assert_eq!(s.escalation.max_out_of_scope, 2);
        assert!(s.validate().is_ok());
        let e = s.effective("Acme", &["no longer needed".into()]);
        assert_eq!(e.brand.as_deref(), Some("Acme"));
        assert_eq!(e.cancel_reasons.unwrap(), vec!["no longer needed"]);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        assert!(serde_json::from_str::<TenantSettings>(r#"{"colour": "red"}"#).is_err());
        assert!(serde_json::from_str::<TenantSettings>(r#"{"tone": "rude"}"#).is_err());
        for bad in [
            r#"{"brand": "  "}"#,
            r#"{"cancel_reasons": []}"#,
            r#"{"cancel_reasons": [""]}"#,
            r#"{"escalation": {"min_confidence": 1.5}}"#,
            r#"{"escalation": {"max_failures": 0}}"#,
            r#"{"escalation": {"max_out_of_scope": 11}}"#,
        ] {
            assert!(parse(bad).validate().is_err(), "{bad}");
        }
        let long = format!(r#"{{"greeting": "{}"}}"#, "a".repeat(301));
        assert!(parse(&long).validate().is_err());
        let ok = format!(r#"{{"greeting": "{}"}}"#, "é".repeat(300));
        assert!(parse(&ok).validate().is_ok());
    }
}
