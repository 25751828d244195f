//! Reply wording: brand-voiced templates, per-tenant tone.

use hc_domain::TenantSettings;
pub use hc_domain::Tone;
use serde::{Deserialize, Serialize};

/// How the agent speaks for a merchant.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Voice {
    /// The shop's name, used in greetings.
    pub brand: String,
    pub tone: Tone,
    /// The merchant's own opening line, replacing the template's.
    pub greeting: Option<String>,
}

impl Default for Voice {
    fn default() -> Self {
        Self {
            brand: "our shop".into(),
            tone: Tone::Friendly,
            greeting: None,
        }
    }
}

impl Voice {
    /// A tenant's voice: its brand (else `fallback_brand`), tone and greeting.
    pub fn for_tenant(settings: &TenantSettings, fallback_brand: &str) -> Self {
        Self {
            brand: settings
                .brand
                .clone()
                .unwrap_or_else(|| fallback_brand.to_string()),
            tone: settings.tone,
            greeting: settings.greeting.clone(),
        }
    }

    pub fn greeting(&self, name: Option<&str>) -> String {
        if let Some(custom) = &self.greeting {
            return match (self.tone, name) {
                (_, None) => custom.clone(),
                (Tone::Friendly, Some(n)) => format!("Hi {n}! {custom}"),
                (Tone::Formal, Some(n)) => format!("Good day, {n}. {custom}"),
            };
        }
        match (self.tone, name) {
            (Tone::Friendly, Some(n)) => {
                format!("Hi {n}! Welcome back to {}. How can I help?", self.brand)
            }
            (Tone::Friendly, None) => {
                format!("Hi! Welcome to {}. How can I help you today?", self.brand)
            }
            (Tone::Formal, Some(n)) => format!(
                "Good day, {n}. Thank you for contacting {}. How may I assist you?",
                self.brand
            ),
            (Tone::Formal, None) => format!(
                "Good day. Thank you for contacting {}. How may I assist you?",
                self.brand
            ),
        }
    }

    pub fn ok(&self) -> &'static str {
        match self.tone {
            Tone::Friendly => "Done!",
            Tone::Formal => "This has been completed.",
        }
    }

    pub fn sorry(&self) -> &'static str {
        match self.tone {
            Tone::Friendly => "Sorry,",
            Tone::Formal => "I apologise;",
        }
    }

    pub fn anything_else(&self) -> &'static str {
        match self.tone {
            Tone::Friendly => "Anything else I can help with?",
            Tone::Formal => "Is there anything else I may assist you with?",
        }
    }

    /// The question after several actions read back together.
    pub fn confirm_all_question(&self) -> &'static str {
        match self.tone {
            Tone::Friendly => {
                "Shall I go ahead with all of them? (yes/no, or tell me which ones, e.g. \"only the first\")"
            }
            Tone::Formal => {
                "Would you like me to proceed with all of them? Please answer yes or no, or tell me which ones."
            }
        }
    }

    pub fn confirm_question(&self) -> &'static str {
        match self.tone {
            Tone::Friendly => "Shall I go ahead? (yes/no)",
            Tone::Formal => "Would you like me to proceed? Please answer yes or no.",
        }
    }
}
