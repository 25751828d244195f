//! A merchant's loyalty program, published on the log: earn rules (points per
//! amount spent, per event type, campaigns with dates), expiry, tiers with an
//! earn multiplier, and what a point is worth as a discount. Pure rules: the
//! state (`state.rs`) supplies the tier's rolling-window points.

use std::collections::BTreeMap;

use hc_domain::Money;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Seconds in a day (program periods are whole days).
pub const DAY: u64 = 86_400;
/// 100% in basis points.
pub const FULL_BP: u32 = 10_000;
const MAX_CAMPAIGNS: usize = 50;
const MAX_TIERS: usize = 10;
const MAX_EVENT_TYPES: usize = 50;
const MAX_MULTIPLIER_BP: u32 = 100 * FULL_BP;

/// `points` points for every `cents` (an exact ratio; no floats on the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub points: u64,
    pub cents: u64,
}

impl Rate {
    fn validate(&self, what: &'static str) -> Result<()> {
        if self.points == 0 || self.cents == 0 || self.points > 1_000_000 || self.cents > 1_000_000
        {
            return Err(Error::invalid(
                what,
                "points and cents must both be 1..=1000000",
            ));
        }
        Ok(())
    }

    /// Whole points earned for `cents` (rounded down).
    pub fn points_for(&self, cents: u64) -> u64 {
        (u128::from(cents) * u128::from(self.points) / u128::from(self.cents)) as u64
    }

    /// The value of `points` in cents (rounded down).
    pub fn cents_for(&self, points: u64) -> u64 {
        (u128::from(points) * u128::from(self.cents) / u128::from(self.points)) as u64
    }

    /// The most points whose value does not exceed `cents`.
    pub fn points_worth(&self, cents: u64) -> u64 {
        (u128::from(cents) * u128::from(self.points) / u128::from(self.cents)) as u64
    }
}

/// A campaign: between `starts_at` and `ends_at` (unix seconds, end
/// exclusive), earns are multiplied and/or get bonus points; limited to one
/// event type (`"purchase"` for purchases) when `event_type` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub id: String,
    pub starts_at: u64,
    pub ends_at: u64,
    /// Earn multiplier in basis points (10000 = ×1, 20000 = double points).
    #[serde(default = "full_bp")]
    pub multiplier_bp: u32,
    /// Points added to each qualifying earn.
    #[serde(default)]
    pub bonus_points: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

fn full_bp() -> u32 {
    FULL_BP
}

/// A tier: reached when the points earned in the program's rolling window
/// are at least `threshold`. Its benefit is an earn multiplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: String,
    pub threshold: u64,
    /// Earn multiplier in basis points (10000 = ×1).
    #[serde(default = "full_bp")]
    pub earn_multiplier_bp: u32,
}

/// A merchant's program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// ISO 4217 code of the amounts (e.g. `USD`).
    pub currency: String,
    /// Points per amount spent (e.g. 1 point per 100 cents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earn: Option<Rate>,
    /// Points per event type (e.g. `{"review": 50, "signup": 200}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub events: BTreeMap<String, u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<Campaign>,
    /// Points expire this many days after they were earned (none: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u32>,
    /// The tiers' rolling window in days.
    #[serde(default = "default_window")]
    pub tier_window_days: u32,
    /// Ascending thresholds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// What points are worth as a discount (e.g. 100 points = 100 cents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeem: Option<Rate>,
    /// Largest share of an order total payable with points, in basis points.
    #[serde(default = "full_bp")]
    pub max_redeem_bp: u32,
}

fn default_window() -> u32 {
    365
}

pub(crate) fn check_name(what: &'static str, s: &str) -> Result<()> {
    if s.is_empty()
        || s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Error::invalid(
            what,
            "must be 1 to 64 characters of letters, digits, '-', '_' or '.'",
        ));
    }
    Ok(())
}

pub(crate) fn check_currency(c: &str) -> Result<()> {
    if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::invalid(
            "currency",
            "must be a 3-letter ISO 4217 code",
        ));
    }
    Ok(())
}

pub(crate) use check_name as check_id;

/// How an earn was computed (recorded on the log, recomputed on replay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EarnBasis {
    /// The amount spent, in cents (a purchase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<u64>,
    /// The event type (a purchase when absent and an amount is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// The account's tier when it earned (derived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The campaigns that applied (derived).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<String>,
}

impl EarnBasis {
    /// The request part (what the caller gave), without derived fields.
    pub fn request(&self) -> Self {
        Self {
            amount_cents: self.amount_cents,
            event_type: self.event_type.clone(),
            tier: None,
            campaigns: Vec::new(),
        }
    }
}

impl Program {
    /// Checks bounds and shape; a program that fails is never written.
    pub fn validate(&self) -> Result<()> {
        check_currency(&self.currency)?;
        if let Some(r) = &self.earn {
            r.validate("earn rate")?;
        }
        if let Some(r) = &self.redeem {
            r.validate("redeem rate")?;
        }
        if self.events.len() > MAX_EVENT_TYPES {
            return Err(Error::invalid(
                "events",
                format!("at most {MAX_EVENT_TYPES} event types"),
            ));
        }
        for (name, points) in &self.events {
            check_name("event type", name)?;
            if name == "purchase" {
                return Err(Error::invalid(
                    "events",
                    "\"purchase\" is earned by amount (use `earn`)",
                ));
            }
            if *points == 0 || *points > super::MAX_POINTS_PER_OP {
                return Err(Error::invalid("events", "points must be 1..=1000000000"));
            }
        }
        if self.campaigns.len() > MAX_CAMPAIGNS {
            return Err(Error::invalid(
                "campaigns",
                format!("at most {MAX_CAMPAIGNS} campaigns"),
            ));
        }
        let mut ids = std::collections::BTreeSet::new();
        for c in &self.campaigns {
            check_name("campaign id", &c.id)?;
            if !ids.insert(&c.id) {
                return Err(Error::invalid(
                    "campaigns",
                    format!("duplicate id {:?}", c.id),
                ));
            }
            if c.ends_at <= c.starts_at {
                return Err(Error::invalid(
                    "campaigns",
                    format!("campaign {:?} ends before it starts", c.id),
                ));
            }
            if c.multiplier_bp == 0 || c.multiplier_bp > MAX_MULTIPLIER_BP {
                return Err(Error::invalid(
                    "campaigns",
                    "multiplier_bp must be 1..=1000000",
                ));
            }
            if c.bonus_points > super::MAX_POINTS_PER_OP {
                return Err(Error::invalid("campaigns", "bonus_points too large"));
            }
            if let Some(t) = &c.event_type {
                check_name("campaign event type", t)?;
            }
        }
        if self.tier_window_days == 0 || self.tier_window_days > 3660 {
            return Err(Error::invalid("tier_window_days", "must be 1..=3660"));
        }
        if let Some(d) = self.expiry_days
            && (d == 0 || d > 36_600)
        {
            return Err(Error::invalid("expiry_days", "must be 1..=36600"));
        }
        if self.tiers.len() > MAX_TIERS {
            return Err(Error::invalid(
                "tiers",
                format!("at most {MAX_TIERS} tiers"),
            ));
        }
        let mut last: Option<u64> = None;
        let mut names = std::collections::BTreeSet::new();
        for t in &self.tiers {
            check_name("tier name", &t.name)?;
            if !names.insert(&t.name) {
                return Err(Error::invalid(
                    "tiers",
                    format!("duplicate tier {:?}", t.name),
                ));
            }
            if last.is_some_and(|l| t.threshold <= l) {
                return Err(Error::invalid(
                    "tiers",
                    "thresholds must be strictly ascending",
                ));
            }
            if t.earn_multiplier_bp == 0 || t.earn_multiplier_bp > MAX_MULTIPLIER_BP {
                return Err(Error::invalid(
                    "tiers",
                    "earn_multiplier_bp must be 1..=1000000",
                ));
            }
            last = Some(t.threshold);
        }
        if self.max_redeem_bp == 0 || self.max_redeem_bp > FULL_BP {
            return Err(Error::invalid("max_redeem_bp", "must be 1..=10000"));
        }
        Ok(())
    }

    /// The tier reached with `window_points` earned in the rolling window.
    pub fn tier_for(&self, window_points: u64) -> Option<&Tier> {
        self.tiers
            .iter()
            .rev()
            .find(|t| window_points >= t.threshold)
    }

    /// When points earned at `at` expire.
    pub fn expires_at(&self, at: u64) -> Option<u64> {
        self.expiry_days
            .map(|d| at.saturating_add(u64::from(d) * DAY))
    }

    /// Points for an earn at `at` with the account's rolling-window points:
    /// (base per amount + per event) × tier multiplier × active campaigns'
    /// multipliers + campaign bonuses, rounded down. Returns the completed
    /// basis (tier and campaigns filled in).
    pub fn earn_points(
        &self,
        basis: &EarnBasis,
        window_points: u64,
        at: u64,
    ) -> Result<(u64, EarnBasis)> {
        let event = match (&basis.amount_cents, &basis.event_type) {
            (Some(_), None) => "purchase",
            (Some(_), Some(t)) if t == "purchase" => "purchase",
            (None, Some(t)) => t.as_str(),
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "earn",
                    "an amount earns as a purchase; give no other event type",
                ));
            }
            (None, None) => {
                return Err(Error::invalid("earn", "give an amount or an event type"));
            }
        };
        let base = if let Some(cents) = basis.amount_cents {
            let rate = self.earn.ok_or_else(|| {
                Error::invalid("earn", "the program earns nothing per amount spent")
            })?;
            rate.points_for(cents)
        } else {
            *self.events.get(event).ok_or_else(|| {
                Error::invalid("event_type", format!("the program has no {event:?} rule"))
            })?
        };
        let tier = self.tier_for(window_points);
        let mut points = u128::from(base);
        if let Some(t) = tier {
            points = points * u128::from(t.earn_multiplier_bp) / u128::from(FULL_BP);
        }
        let mut campaigns = Vec::new();
        let mut bonus = 0u128;
        for c in &self.campaigns {
            let active = c.starts_at <= at && at < c.ends_at;
            let matches = c.event_type.as_deref().is_none_or(|t| t == event);
            if active && matches {
                points = points * u128::from(c.multiplier_bp) / u128::from(FULL_BP);
                bonus += u128::from(c.bonus_points);
                campaigns.push(c.id.clone());
            }
        }
        let total = points + bonus;
        if total == 0 {
            return Err(Error::invalid("earn", "this earns no points"));
        }
        if total > u128::from(super::MAX_POINTS_PER_OP) {
            return Err(Error::invalid("earn", "this earns too many points"));
        }
        Ok((
            total as u64,
            EarnBasis {
                amount_cents: basis.amount_cents,
                event_type: basis.event_type.clone(),
                tier: tier.map(|t| t.name.clone()),
                campaigns,
            },
        ))
    }

    /// The discount `points` are worth, and the most points usable on an
    /// order of `order_total` (the program's cap and the points' value).
    pub fn discount(&self, points: u64) -> Result<Money> {
        let rate = self
            .redeem
            .ok_or_else(|| Error::invalid("redeem", "the program sets no point value"))?;
        Ok(Money::from_cents(
            rate.cents_for(points).min(i64::MAX as u64) as i64,
        ))
    }

    /// The most points usable on an order of `order_total` cents.
    pub fn max_points_for_order(&self, order_total_cents: u64) -> Result<u64> {
        let rate = self
            .redeem
            .ok_or_else(|| Error::invalid("redeem", "the program sets no point value"))?;
        let cap =
            u128::from(order_total_cents) * u128::from(self.max_redeem_bp) / u128::from(FULL_BP);
        Ok(rate.points_worth(cap as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        Program {
            currency: "USD".into(),
            earn: Some(Rate {
                points: 1,
                cents: 100,
            }),
            events: [("review".to_string(), 50)].into(),
            campaigns: vec![Campaign {
                id: "double-june".into(),
                starts_at: 1_000,
                ends_at: 2_000,
                multiplier_bp: 20_000,
                bonus_points: 5,
                event_type: Some("purchase".into()),
            }],
            expiry_days: Some(30),
            tier_window_days: 365,
            tiers: vec![
                Tier {
                    name: "silver".into(),
                    threshold: 100,
                    earn_multiplier_bp: 12_500,
                },
                Tier {
                    name: "gold".into(),
                    threshold: 1_000,
                    earn_multiplier_bp: 15_000,
                },
            ],
            redeem: Some(Rate {
                points: 100,
                cents: 100,
            }),
            max_redeem_bp: 5_000,
        }
    }

    fn purchase(cents: u64) -> EarnBasis {
        EarnBasis {
            amount_cents: Some(cents),
            ..EarnBasis::default()
        }
    }

    #[test]
    fn earn_applies_rate_tier_and_campaign_in_order() {
        let p = program();
        p.validate().unwrap();
        // $123.45 → 123 points, no tier, outside the campaign.
        assert_eq!(p.earn_points(&purchase(12_345), 0, 10).unwrap().0, 123);
        // Silver: ×1.25 → 153 (rounded down).
        let (pts, basis) = p.earn_points(&purchase(12_345), 150, 10).unwrap();
        assert_eq!((pts, basis.tier.as_deref()), (153, Some("silver")));
        // Gold inside the campaign: 123 × 1.5 = 184, × 2 = 368, + 5.
        let (pts, basis) = p.earn_points(&purchase(12_345), 5_000, 1_500).unwrap();
        assert_eq!(pts, 373);
        assert_eq!(basis.campaigns, vec!["double-june".to_string()]);
        // The campaign ends exclusive, and does not apply to reviews.
        assert_eq!(p.earn_points(&purchase(12_345), 0, 2_000).unwrap().0, 123);
        let review = EarnBasis {
            event_type: Some("review".into()),
            ..EarnBasis::default()
        };
        assert_eq!(p.earn_points(&review, 0, 1_500).unwrap().0, 50);
        let unknown = EarnBasis {
            event_type: Some("signup".into()),
            ..EarnBasis::default()
        };
        assert!(p.earn_points(&unknown, 0, 0).is_err());
        assert!(p.earn_points(&purchase(50), 0, 0).is_err(), "0 points");
    }

    #[test]
    fn discounts_and_caps_round_down() {
        let p = program();
        assert_eq!(p.discount(250).unwrap(), Money::from_cents(250));
        // Half of a $10.01 order: 500 cents → 500 points.
        assert_eq!(p.max_points_for_order(1_001).unwrap(), 500);
        assert_eq!(p.expires_at(0), Some(30 * DAY));
    }

    #[test]
    fn invalid_programs_are_refused() {
        let mut p = program();
        p.tiers[1].threshold = 100;
        assert!(p.validate().is_err());
        let mut p = program();
        p.campaigns[0].ends_at = 1_000;
        assert!(p.validate().is_err());
        let mut p = program();
        p.currency = "usd".into();
        assert!(p.validate().is_err());
        let mut p = program();
        p.max_redeem_bp = 0;
        assert!(p.validate().is_err());
        let mut p = program();
        p.events.insert("purchase".into(), 1);
        assert!(p.validate().is_err());
    }
}
