//! The retail model, serialised exactly in the τ-retail `db.json` layout
//! (tagged payment methods, statuses with spaces, action fields omitted when
//! unset). Our extensions (description, category, cost, stock, …) are optional
//! and omitted when unset, so an imported τ database exports unchanged.

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::ids::{ItemId, OrderId, PaymentMethodId, ProductId, UserId};
use crate::money::Money;

/// Option name → value, e.g. `color → blue`. Order is kept as given.
pub type Options = IndexMap<String, String>;

/// A product type and its purchasable variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    pub product_id: ProductId,
    pub variants: IndexMap<ItemId, Variant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// One purchasable variant (an "item") of a product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub item_id: ItemId,
    pub options: Options,
    pub available: bool,
    pub price: Money,
    /// Unit cost to the merchant, the floor for pricing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    /// Units in stock, when the merchant tracks stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonName {
    pub first_name: String,
    pub last_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub country: String,
    pub state: String,
    pub zip: String,
}

/// A saved payment method, tagged by `source` as in τ-retail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentMethod {
    CreditCard {
        id: PaymentMethodId,
        brand: String,
        last_four: String,
    },
    GiftCard {
        id: PaymentMethodId,
        balance: Money,
    },
    Paypal {
        id: PaymentMethodId,
    },
}

impl PaymentMethod {
    pub fn id(&self) -> &PaymentMethodId {
        match self {
            PaymentMethod::CreditCard { id, .. }
            | PaymentMethod::GiftCard { id, .. }
            | PaymentMethod::Paypal { id } => id,
        }
    }

    pub fn is_gift_card(&self) -> bool {
        matches!(self, PaymentMethod::GiftCard { .. })
    }

    /// A short human description, e.g. `visa ending 1234`.
    pub fn describe(&self) -> String {
        match self {
            PaymentMethod::CreditCard {
                brand, last_four, ..
            } => format!("{brand} card ending {last_four}"),
            PaymentMethod::GiftCard { balance, .. } => format!("gift card (balance {balance})"),
            PaymentMethod::Paypal { .. } => "PayPal".to_string(),
        }
    }
}

/// A customer (τ calls it a user).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub user_id: UserId,
    pub name: PersonName,
    pub address: Address,
    pub email: String,
    pub payment_methods: IndexMap<PaymentMethodId, PaymentMethod>,
    pub orders: Vec<OrderId>,
    /// The shopping cart (beyond τ; absent from exports while empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cart: Vec<CartLine>,
}

/// Units of one variant in a customer's cart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub item_id: ItemId,
    pub quantity: u32,
}

impl Customer {
    /// Adds to (or, negative, takes from) a gift card's balance. Returns false
    /// when the id is not one of this customer's gift cards.
    pub fn credit_gift_card(&mut self, id: &PaymentMethodId, amount: Money) -> bool {
        match self.payment_methods.get_mut(id) {
            Some(PaymentMethod::GiftCard { balance, .. }) => {
                *balance += amount;
                true
            }
            _ => false,
        }
    }
}

/// Order lifecycle. The last three are set only by retail actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "processed")]
    Processed,
    #[serde(rename = "delivered")]
    Delivered,
    #[serde(rename = "cancelled")]
    Cancelled,
    #[serde(rename = "pending (item modified)")]
    PendingItemModified,
    #[serde(rename = "exchange requested")]
    ExchangeRequested,
    #[serde(rename = "return requested")]
    ReturnRequested,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Pending,
        OrderStatus::Processed,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::PendingItemModified,
        OrderStatus::ExchangeRequested,
        OrderStatus::ReturnRequested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Processed => "processed",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::PendingItemModified => "pending (item modified)",
            OrderStatus::ExchangeRequested => "exchange requested",
            OrderStatus::ReturnRequested => "return requested",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// True for every status whose name contains "pending" (address and payment
    /// may still change; items only while exactly `Pending`).
    pub fn is_pending_like(self) -> bool {
        matches!(
            self,
            OrderStatus::Pending | OrderStatus::PendingItemModified
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One unit of a product in an order (no quantity: duplicates are separate entries).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItem {
    pub name: String,
    pub product_id: ProductId,
    pub item_id: ItemId,
    pub price: Money,
    pub options: Options,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fulfillment {
    pub tracking_id: Vec<String>,
    pub item_ids: Vec<ItemId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Payment,
    Refund,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    pub transaction_type: TransactionType,
    pub amount: Money,
    pub payment_method_id: PaymentMethodId,
}

/// Loyalty points that paid part of an order (burned on the loyalty ledger
/// with the order id as the idempotency key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoyaltyPayment {
    pub points: u64,
    pub discount: Money,
}

/// An order, with the fields retail actions write omitted until they are set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub address: Address,
    pub items: Vec<OrderItem>,
    pub status: OrderStatus,
    pub fulfillments: Vec<Fulfillment>,
    pub payment_history: Vec<Payment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_items: Option<Vec<ItemId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_new_items: Option<Vec<ItemId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_payment_method_id: Option<PaymentMethodId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_price_difference: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_items: Option<Vec<ItemId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_payment_method_id: Option<PaymentMethodId>,
    /// When the order was placed (ms since epoch); τ data has no timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_ms: Option<i64>,
    /// Points that paid part of the order; the payment is the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loyalty: Option<LoyaltyPayment>,
}

impl Order {
    /// A new pending order paid in full by one payment, no action fields set.
    pub fn pending(
        order_id: OrderId,
        user_id: UserId,
        address: Address,
        items: Vec<OrderItem>,
        payment: Payment,
        created_at_ms: Option<i64>,
    ) -> Self {
        Self {
            order_id,
            user_id,
            address,
            items,
            status: OrderStatus::Pending,
            fulfillments: Vec::new(),
            payment_history: vec![payment],
            cancel_reason: None,
            exchange_items: None,
            exchange_new_items: None,
            exchange_payment_method_id: None,
            exchange_price_difference: None,
            return_items: None,
            return_payment_method_id: None,
            created_at_ms,
            loyalty: None,
        }
    }

    /// Sum of the current item prices.
    pub fn items_total(&self) -> Money {
        self.items.iter().map(|i| i.price).sum()
    }
}

/// The whole retail database of one tenant, in the τ-retail `db.json` layout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetailDb {
    pub products: IndexMap<ProductId, Product>,
    pub users: IndexMap<UserId, Customer>,
    pub orders: IndexMap<OrderId, Order>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = r##"{
      "order_id": "#W4817420", "user_id": "ava_moore_2033",
      "address": {"address1": "996 Cedar Street", "address2": "Suite 656", "city": "San Antonio",
                  "country": "USA", "state": "TX", "zip": "78234"},
      "items": [{"name": "Water Bottle", "product_id": "8310926033", "item_id": "6777246137",
                 "price": 47.76, "options": {"capacity": "750ml", "color": "red"}}],
      "status": "pending (item modified)",
      "fulfillments": [{"tracking_id": ["490313116609"], "item_ids": ["6777246137"]}],
      "payment_history": [{"transaction_type": "payment", "amount": 47.76,
                           "payment_method_id": "gift_card_8168843"}]
    }"##;

    #[test]
    fn order_round_trips_in_tau_layout() {
        let order: Order = serde_json::from_str(ORDER).unwrap();
        assert_eq!(order.status, OrderStatus::PendingItemModified);
        assert_eq!(order.items_total(), Money::from_cents(4776));
        let back = serde_json::to_value(&order).unwrap();
        let input: serde_json::Value = serde_json::from_str(ORDER).unwrap();
        assert_eq!(back, input, "unset action fields must be omitted");
    }

    #[test]
    fn payment_methods_are_tagged_by_source() {
        let pm: PaymentMethod =
            serde_json::from_str(r#"{"source": "gift_card", "id": "gift_card_1", "balance": 59}"#)
                .unwrap();
        assert!(pm.is_gift_card());
        assert_eq!(pm.id().as_str(), "gift_card_1");
        let bad = serde_json::from_str::<PaymentMethod>(r#"{"source": "bitcoin", "id": "x"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn unknown_status_is_rejected() {
        let bad = ORDER.replace("pending (item modified)", "shipped");
        assert!(serde_json::from_str::<Order>(&bad).is_err());
    }
}
