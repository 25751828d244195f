//! Money as a signed integer number of minor units (cents). On the wire and in
//! τ-retail files money is a decimal JSON number (`50.88`); inside the product
//! it is never a float.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// An amount in cents. Signed, because price differences and refunds can be negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Largest magnitude accepted from decimal input: exactly representable in f64 cents.
const MAX_CENTS: i64 = 1 << 52;

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses a decimal amount such as `50.88`. Rejects non-finite values, more
    /// than two decimals and magnitudes beyond what a double holds exactly.
    pub fn from_decimal(value: f64) -> Result<Self> {
        if !value.is_finite() {
            return Err(Error::invalid("money", "must be a finite number"));
        }
        let scaled = value * 100.0;
        let cents = scaled.round();
        if cents.abs() > MAX_CENTS as f64 {
            return Err(Error::invalid("money", "amount is too large"));
        }
        // Tolerate binary representation noise, not a third decimal.
        if (scaled - cents).abs() > 1e-6 * scaled.abs().max(1.0) {
            return Err(Error::invalid("money", "at most two decimals are allowed"));
        }
        Ok(Self(cents as i64))
    }

    /// The decimal value, exact to the cent (the nearest double to `cents / 100`).
    pub fn to_decimal(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn abs(self) -> Self {
        Self(self.0.abs())
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        self.0 -= rhs.0;
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_decimal())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        Money::from_decimal(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip_is_exact_to_the_cent() {
        for cents in [0, 1, 99, 5088, 138079, -2499, 100_000_007] {
            let m = Money::from_cents(cents);
            assert_eq!(Money::from_decimal(m.to_decimal()).unwrap(), m);
        }
    }

    #[test]
    fn rejects_sub_cent_and_non_finite() {
        assert!(Money::from_decimal(1.005).is_err());
        assert!(Money::from_decimal(f64::NAN).is_err());
        assert!(Money::from_decimal(f64::INFINITY).is_err());
        assert!(Money::from_decimal(1e300).is_err());
    }

    #[test]
    fn serializes_as_decimal_json_number() {
        let json = serde_json::to_string(&Money::from_cents(5088)).unwrap();
        assert_eq!(json, "50.88");
        let back: Money = serde_json::from_str("46.85").unwrap();
        assert_eq!(back.cents(), 4685);
    }

    #[test]
    fn displays_with_two_decimals() {
        assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
        assert_eq!(Money::from_cents(123456).to_string(), "1234.56");
    }
}
