//! Triggers: merchant rules on scores and sessions that POST a webhook when
//! they match (delivered through the durable outbox). The server evaluates
//! them; the store keeps them and records each firing once.

use serde::{Deserialize, Serialize};

use crate::{Error, Money, Result};

/// When a trigger fires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TriggerCondition {
    /// A session ended (30 minutes without events) with something in the
    /// cart and no purchase; optionally only above a cart value and a
    /// purchase-intent score. Fires once per session.
    CartAbandoned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_cart_value: Option<Money>,
        /// 0–1: the session's purchase intent must reach this (needs an intent model).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_intent: Option<f64>,
    },
    /// A customer's churn probability rose from below `threshold` to at or
    /// above it between two scorings (batch rescoring). Fires at each crossing.
    ChurnRisk { threshold: f64 },
}

/// What a merchant sends to create a trigger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTrigger {
    pub name: String,
    pub condition: TriggerCondition,
    /// Where the webhook is POSTed (`http` or `https`).
    pub webhook_url: String,
    /// A proactive message: when the trigger fires about a known customer,
    /// the agent emails them this text (`{first_name}` is replaced) in a
    /// new conversation their reply continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Longest proactive message, in characters.
pub const MAX_PROACTIVE_CHARS: usize = 2000;

/// A stored trigger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub id: String,
    pub name: String,
    pub condition: TriggerCondition,
    pub webhook_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub created_at_ms: i64,
}

impl Trigger {
    /// The proactive message for a customer, `{first_name}` filled in.
    pub fn message_for(&self, first_name: &str) -> Option<String> {
        self.message
            .as_ref()
            .map(|m| m.replace("{first_name}", first_name.trim()))
    }
}

impl NewTrigger {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid("trigger", m));
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return bad("name must be 1 to 100 characters".into());
        }
        let url = self.webhook_url.as_str();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(host) if url.len() <= 2000 && !host.is_empty() && !host.starts_with('/') => {}
            _ => {
                return bad(
                    "webhook_url must be an http:// or https:// URL (at most 2000 bytes)".into(),
                );
            }
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("webhook_url must not contain spaces or control characters".into());
        }
        if let Some(m) = &self.message {
            let n = m.trim().chars().count();
            if n == 0 || n > MAX_PROACTIVE_CHARS {
                return bad(format!(
                    "message must be 1 to {MAX_PROACTIVE_CHARS} characters"
                ));
            }
            if m.chars().any(|c| c.is_control() && c != '\n') {
                return bad("message must be plain text (no control characters)".into());
            }
        }
        match &self.condition {
            TriggerCondition::ChurnRisk { threshold } => {
                if !(threshold.is_finite() && *threshold > 0.0 && *threshold < 1.0) {
                    return bad("threshold must be between 0 and 1 (exclusive)".into());
                }
            }
            TriggerCondition::CartAbandoned {
                min_cart_value,
                min_intent,
            } => {
                if min_cart_value.is_some_and(|v| v.cents() < 0) {
                    return bad("min_cart_value must not be negative".into());
                }
                if min_intent.is_some_and(|p| !(p.is_finite() && (0.0..=1.0).contains(&p))) {
                    return bad("min_intent must be between 0 and 1".into());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> std::result::Result<NewTrigger, String> {
        let t: NewTrigger = serde_json::from_value(v).map_err(|e| e.to_string())?;
        t.validate().map_err(|e| e.to_string())?;
        Ok(t)
    }

    #[test]
    fn a_proactive_message_is_plain_text_of_bounded_length() {
        let with = |m: serde_json::Value| {
            parse(
                serde_json::json!({"name": "cart", "webhook_url": "https://h.example/x",
                "condition": {"kind": "churn_risk", "threshold": 0.7}, "message": m}),
            )
        };
        let ok = with(serde_json::json!("Hi {first_name}, can I help?")).unwrap();
        let stored = Trigger {
            id: "trg_1".into(),
            name: ok.name,
            condition: ok.condition,
            webhook_url: ok.webhook_url,
            message: ok.message,
            created_at_ms: 0,
        };
        assert_eq!(
            stored.message_for(" Zoe ").as_deref(),
            Some("Hi Zoe, can I help?")
        );
        assert!(
            with(serde_json::json!("  "))
                .unwrap_err()
                .contains("1 to 2000")
        );
        assert!(
            with(serde_json::json!("x".repeat(2001)))
                .unwrap_err()
                .contains("1 to 2000")
        );
        assert!(
            with(serde_json::json!("bell\u{7}"))
                .unwrap_err()
                .contains("plain text")
        );
        assert!(with(serde_json::json!(5)).is_err(), "not a string");
    }

    #[test]
    fn triggers_are_checked_strictly() {
        let ok = parse(
            serde_json::json!({"name": "risk", "webhook_url": "https://h.example/x",
            "condition": {"kind": "churn_risk", "threshold": 0.7}}),
        )
        .unwrap();
        assert_eq!(ok.condition, TriggerCondition::ChurnRisk { threshold: 0.7 });
        let cart = parse(
            serde_json::json!({"name": "cart", "webhook_url": "http://127.0.0.1:9/x",
            "condition": {"kind": "cart_abandoned", "min_cart_value": 20.00, "min_intent": 0.5}}),
        )
        .unwrap();
        assert!(matches!(
            cart.condition,
            TriggerCondition::CartAbandoned {
                min_intent: Some(_),
                ..
            }
        ));
        for bad in [
            serde_json::json!({"name": "x", "webhook_url": "ftp://h/x", "condition": {"kind": "churn_risk", "threshold": 0.7}}),
            serde_json::json!({"name": "x", "webhook_url": "https://h/x", "condition": {"kind": "churn_risk", "threshold": 1.5}}),
            serde_json::json!({"name": "", "webhook_url": "https://h/x", "condition": {"kind": "churn_risk", "threshold": 0.5}}),
            serde_json::json!({"name": "x", "webhook_url": "https://h/x", "condition": {"kind": "sunny_day"}}),
            serde_json::json!({"name": "x", "webhook_url": "https://h/x", "condition": {"kind": "churn_risk", "threshold": 0.5, "extra": 1}}),
            serde_json::json!({"name": "x", "webhook_url": "https://h/x", "condition": {"kind": "cart_abandoned", "min_intent": 2.0}}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}
