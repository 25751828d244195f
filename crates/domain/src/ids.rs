//! Typed identifiers. Each id is an opaque, validated string: non-empty,
//! at most 128 bytes, no control characters. Tenant ids are stricter slugs
//! because they appear in URLs, topics and file names.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

const MAX_ID_LEN: usize = 128;

fn check_opaque(kind: &'static str, raw: &str) -> Result<()> {
    if raw.is_empty() {
        return Err(Error::invalid(kind, "must not be empty"));
    }
    if raw.len() > MAX_ID_LEN {
        return Err(Error::invalid(
            kind,
            format!("must be at most {MAX_ID_LEN} bytes"),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(Error::invalid(kind, "must not contain control characters"));
    }
    Ok(())
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const KIND: &'static str = $kind;

            /// Parses a raw string, rejecting empty, oversized or control-character ids.
            pub fn parse(raw: impl Into<String>) -> Result<Self> {
                let raw = raw.into();
                check_opaque($kind, &raw)?;
                Ok(Self(raw))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

opaque_id!(
    /// A product (a product type with variants), e.g. `9523456873`.
    ProductId, "product_id"
);
opaque_id!(
    /// A purchasable variant of a product, e.g. `9612497925`. A separate namespace from products.
    ItemId, "item_id"
);
opaque_id!(
    /// A customer, e.g. `noah_brown_6181`.
    UserId, "user_id"
);
opaque_id!(
    /// An order, `#W` followed by seven digits for orders this product creates.
    OrderId, "order_id"
);
opaque_id!(
    /// A saved payment method of a customer, e.g. `gift_card_8168843`.
    PaymentMethodId, "payment_method_id"
);
opaque_id!(
    /// A conversation, e.g. `conv_3fJ9…`.
    ConversationId, "conversation_id"
);
opaque_id!(
    /// An API key's public identifier (never the secret).
    ApiKeyId, "api_key_id"
);
opaque_id!(
    /// A dashboard operator (a person who signs in), e.g. `op_3fJ9…`.
    OperatorId, "operator_id"
);
opaque_id!(
    /// A knowledge-base article, e.g. `art_3fJ9…`. Stable across edits; the
    /// slug is what URLs and citations use.
    ArticleId, "article_id"
);

opaque_id!(
    /// A behavior event, chosen by the sender (deduplicated per tenant).
    EventId, "event_id"
);

impl OrderId {
    /// Formats the canonical order id for a sequence number: `#W` and seven digits.
    pub fn from_number(n: u32) -> Self {
        Self(format!("#W{:07}", n % 10_000_000))
    }
}

/// A merchant. Lowercase ASCII letters, digits, `-` and `_`, 1 to 64 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: impl Into<String>) -> Result<Self> {
        let raw = raw.into();
        let ok_len = (1..=64).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok_len || !ok_chars {
            return Err(Error::invalid(
                "tenant_id",
                "use 1 to 64 lowercase letters, digits, '-' or '_'",
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_ids_reject_empty_long_and_control_chars() {
        assert!(OrderId::parse("").is_err());
        assert!(OrderId::parse("x".repeat(129)).is_err());
        assert!(OrderId::parse("#W1\n").is_err());
        assert_eq!(OrderId::parse("#W0000001").unwrap().as_str(), "#W0000001");
    }

    #[test]
    fn tenant_ids_are_slugs() {
        assert!(TenantId::parse("demo").is_ok());
        assert!(TenantId::parse("Shop A").is_err());
        assert!(TenantId::parse("a'; drop table x;--").is_err());
        assert!(TenantId::parse("").is_err());
    }

    #[test]
    fn order_numbers_format_as_hash_w_and_seven_digits() {
        assert_eq!(OrderId::from_number(42).as_str(), "#W0000042");
    }
}
