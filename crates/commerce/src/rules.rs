//! The retail actions as pure state transitions on loaded aggregates. Each
//! function checks every precondition before it changes anything, so a failed
//! rule leaves the aggregates untouched. The semantics follow SPEC §5, which is
//! compatible with the public τ-retail benchmark's reference implementation.

use std::collections::HashMap;

use hc_domain::{
    Address, Customer, ItemId, Money, Order, OrderStatus, Payment, PaymentMethod, PaymentMethodId,
    Product, ProductId, TransactionType,
};

use crate::error::{Error, Result};

/// Products by id, loaded for the items an action touches.
pub type Products = HashMap<ProductId, Product>;

fn payment_method<'c>(customer: &'c Customer, id: &PaymentMethodId) -> Result<&'c PaymentMethod> {
    customer
        .payment_methods
        .get(id)
        .ok_or_else(|| Error::PaymentMethodNotFound(id.clone()))
}

fn ensure_covers(method: &PaymentMethod, needed: Money) -> Result<()> {
    match method {
        PaymentMethod::GiftCard { id, balance } if *balance < needed => {
            Err(Error::InsufficientGiftCardBalance {
                id: id.clone(),
                balance: balance.to_string(),
                needed: needed.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// Every id in `wanted` is present in the order at least as many times as it is wanted.
fn ensure_items_present(order: &Order, wanted: &[ItemId]) -> Result<()> {
    let mut available: HashMap<&ItemId, usize> = HashMap::new();
    for item in &order.items {
        *available.entry(&item.item_id).or_default() += 1;
    }
    for id in wanted {
        match available.get_mut(id) {
            Some(n) if *n > 0 => *n -= 1,
            _ => return Err(Error::ItemNotInOrder(id.clone())),
        }
    }
    Ok(())
}

fn ensure_non_empty(ids: &[ItemId]) -> Result<()> {
    if ids.is_empty() {
        return Err(Error::InvalidArguments("item_ids must not be empty".into()));
    }
    Ok(())
}

fn ensure_delivered(order: &Order, action: &'static str) -> Result<()> {
    if order.status != OrderStatus::Delivered {
        return Err(Error::OrderNotDelivered {
            order: order.order_id.clone(),
            status: order.status,
            action,
        });
    }
    Ok(())
}

fn ensure_pending_like(order: &Order) -> Result<()> {
    if !order.status.is_pending_like() {
        return Err(Error::OrderNotPending {
            order: order.order_id.clone(),
            status: order.status,
            rule: "only pending orders can be modified",
        });
    }
    Ok(())
}

/// Resolves each `(old, new)` pair to the new variant, checking that the new id
/// is an available variant of the old item's product. Returns the new variants
/// in order and the total price difference (new − old).
fn resolve_swaps<'p>(
    order: &Order,
    item_ids: &[ItemId],
    new_item_ids: &[ItemId],
    products: &'p Products,
    forbid_same: bool,
) -> Result<(Vec<&'p hc_domain::Variant>, Money)> {
    ensure_non_empty(item_ids)?;
    ensure_items_present(order, item_ids)?;
    if item_ids.len() != new_item_ids.len() {
        return Err(Error::ItemCountMismatch {
            old: item_ids.len(),
            new: new_item_ids.len(),
        });
    }
    let mut diff = Money::ZERO;
    let mut variants = Vec::with_capacity(item_ids.len());
    for (old_id, new_id) in item_ids.iter().zip(new_item_ids) {
        if forbid_same && old_id == new_id {
            return Err(Error::SameItem(new_id.clone()));
        }
        let old = order
            .items
            .iter()
            .find(|i| &i.item_id == old_id)
            .ok_or_else(|| Error::ItemNotInOrder(old_id.clone()))?;
        let product = products
            .get(&old.product_id)
            .ok_or_else(|| Error::ProductNotFound(old.product_id.clone()))?;
        let variant = product
            .variants
            .get(new_id)
            .ok_or_else(|| Error::VariantNotInProduct {
                item: new_id.clone(),
                product: old.product_id.clone(),
            })?;
        if !variant.available {
            return Err(Error::ItemUnavailable(new_id.clone()));
        }
        diff += variant.price - old.price;
        variants.push(variant);
    }
    Ok((variants, diff))
}

fn sorted(ids: &[ItemId]) -> Vec<ItemId> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Cancels a pending order: refunds every payment to its method (gift cards at once).
pub fn cancel_pending_order(
    order: &mut Order,
    customer: &mut Customer,
    reason: &str,
    allowed_reasons: &[String],
) -> Result<()> {
    if order.status != OrderStatus::Pending {
        return Err(Error::OrderNotPending {
            order: order.order_id.clone(),
            status: order.status,
            rule: "only pending orders can be cancelled",
        });
    }
    if !allowed_reasons.iter().any(|r| r == reason) {
        return Err(Error::InvalidReason {
            allowed: allowed_reasons.join(", "),
        });
    }
    for payment in &order.payment_history {
        payment_method(customer, &payment.payment_method_id)?;
    }
    let refunds: Vec<Payment> = order
        .payment_history
        .iter()
        .map(|p| Payment {
            transaction_type: TransactionType::Refund,
            amount: p.amount,
            payment_method_id: p.payment_method_id.clone(),
        })
        .collect();
    for refund in &refunds {
        customer.credit_gift_card(&refund.payment_method_id, refund.amount);
    }
    order.payment_history.extend(refunds);
    order.status = OrderStatus::Cancelled;
    order.cancel_reason = Some(reason.to_string());
    Ok(())
}

/// Replaces the shipping address of a pending order.
pub fn modify_pending_order_address(order: &mut Order, address: Address) -> Result<()> {
    ensure_pending_like(order)?;
    order.address = address;
    Ok(())
}

/// Moves a pending order's single payment to another of the customer's methods.
pub fn modify_pending_order_payment(
    order: &mut Order,
    customer: &mut Customer,
    new_method: &PaymentMethodId,
) -> Result<()> {
    ensure_pending_like(order)?;
    let method = payment_method(customer, new_method)?;
    let [current] = order.payment_history.as_slice() else {
        return Err(Error::PaymentHistoryNotSingle);
    };
    if current.transaction_type != TransactionType::Payment {
        return Err(Error::PaymentHistoryNotSingle);
    }
    if &current.payment_method_id == new_method {
        return Err(Error::SamePaymentMethod(new_method.clone()));
    }
    let amount = current.amount;
    ensure_covers(method, amount)?;
    let old_method = current.payment_method_id.clone();
    payment_method(customer, &old_method)?;

    order.payment_history.push(Payment {
        transaction_type: TransactionType::Payment,
        amount,
        payment_method_id: new_method.clone(),
    });
    order.payment_history.push(Payment {
        transaction_type: TransactionType::Refund,
        amount,
        payment_method_id: old_method.clone(),
    });
    customer.credit_gift_card(new_method, -amount);
    customer.credit_gift_card(&old_method, amount);
    Ok(())
}

/// Swaps items of a pending order for other variants of the same products (once per order).
pub fn modify_pending_order_items(
    order: &mut Order,
    customer: &mut Customer,
    item_ids: &[ItemId],
    new_item_ids: &[ItemId],
    method_id: &PaymentMethodId,
    products: &Products,
) -> Result<()> {
    if order.status != OrderStatus::Pending {
        return Err(Error::OrderNotPending {
            order: order.order_id.clone(),
            status: order.status,
            rule: "items can be modified only once, while the order is exactly 'pending'",
        });
    }
    let (variants, diff) = resolve_swaps(order, item_ids, new_item_ids, products, true)?;
    let method = payment_method(customer, method_id)?;
    ensure_covers(method, diff)?;

    order.payment_history.push(Payment {
        transaction_type: if diff.is_positive() {
            TransactionType::Payment
        } else {
            TransactionType::Refund
        },
        amount: diff.abs(),
        payment_method_id: method_id.clone(),
    });
    customer.credit_gift_card(method_id, -diff);
    // Each replacement takes the first unit with that id that has not been
    // replaced yet, chosen among the original units, so duplicates and swaps
    // (a→b, b→a) each touch a distinct unit.
    let mut replaced = vec![false; order.items.len()];
    for (old_id, variant) in item_ids.iter().zip(variants) {
        let slot =
            (0..order.items.len()).find(|&i| !replaced[i] && &order.items[i].item_id == old_id);
        if let Some(i) = slot {
            replaced[i] = true;
            let item = &mut order.items[i];
            item.item_id = variant.item_id.clone();
            item.price = variant.price;
            item.options = variant.options.clone();
        }
    }
    order.status = OrderStatus::PendingItemModified;
    Ok(())
}

/// Requests an exchange of delivered items for other variants; no money moves yet.
pub fn exchange_delivered_order_items(
    order: &mut Order,
    customer: &Customer,
    item_ids: &[ItemId],
    new_item_ids: &[ItemId],
    method_id: &PaymentMethodId,
    products: &Products,
) -> Result<()> {
    ensure_delivered(order, "exchanged")?;
    let (_, diff) = resolve_swaps(order, item_ids, new_item_ids, products, false)?;
    let method = payment_method(customer, method_id)?;
    ensure_covers(method, diff)?;

    order.status = OrderStatus::ExchangeRequested;
    order.exchange_items = Some(sorted(item_ids));
    order.exchange_new_items = Some(sorted(new_item_ids));
    order.exchange_payment_method_id = Some(method_id.clone());
    order.exchange_price_difference = Some(diff);
    Ok(())
}

/// Requests a return of delivered items, refunded to the original method or,
/// when the merchant allows it (`gift_card_allowed`), a gift card.
pub fn return_delivered_order_items(
    order: &mut Order,
    customer: &Customer,
    item_ids: &[ItemId],
    method_id: &PaymentMethodId,
    gift_card_allowed: bool,
) -> Result<()> {
    ensure_delivered(order, "returned")?;
    let method = payment_method(customer, method_id)?;
    let original = order.payment_history.first().map(|p| &p.payment_method_id);
    let to_gift_card = method.is_gift_card() && gift_card_allowed;
    if !to_gift_card && original != Some(method_id) {
        return Err(Error::RefundMethodNotAllowed(method_id.clone()));
    }
    ensure_non_empty(item_ids)?;
    ensure_items_present(order, item_ids)?;

    order.status = OrderStatus::ReturnRequested;
    order.return_items = Some(sorted(item_ids));
    order.return_payment_method_id = Some(method_id.clone());
    Ok(())
}

/// Most units of one item in a cart, lines in a cart and units in a cart.
pub const CART_MAX_PER_ITEM: u32 = 20;
pub const CART_MAX_LINES: usize = 30;
pub const CART_MAX_UNITS: u32 = 100;

/// Adds units of an item to a cart, merging with its line.
pub fn add_to_cart(
    cart: &mut Vec<hc_domain::CartLine>,
    item: &ItemId,
    quantity: u32,
) -> Result<()> {
    if quantity == 0 || quantity > CART_MAX_PER_ITEM {
        return Err(Error::InvalidArguments(format!(
            "quantity must be between 1 and {CART_MAX_PER_ITEM}"
        )));
    }
    let units: u32 = cart.iter().map(|l| l.quantity).sum();
    if units + quantity > CART_MAX_UNITS {
        return Err(Error::CartFull(format!(
            "a cart holds at most {CART_MAX_UNITS} units"
        )));
    }
    let lines = cart.len();
    match cart.iter_mut().find(|l| &l.item_id == item) {
        Some(line) if line.quantity + quantity > CART_MAX_PER_ITEM => Err(Error::CartFull(
            format!("at most {CART_MAX_PER_ITEM} units of one item"),
        )),
        Some(line) => {
            line.quantity += quantity;
            Ok(())
        }
        None if lines >= CART_MAX_LINES => Err(Error::CartFull(format!(
            "a cart holds at most {CART_MAX_LINES} different items"
        ))),
        None => {
            cart.push(hc_domain::CartLine {
                item_id: item.clone(),
                quantity,
            });
            Ok(())
        }
    }
}

/// Takes `quantity` units (all when `None`) of an item out of a cart.
pub fn remove_from_cart(
    cart: &mut Vec<hc_domain::CartLine>,
    item: &ItemId,
    quantity: Option<u32>,
) -> Result<()> {
    let Some(pos) = cart.iter().position(|l| &l.item_id == item) else {
        return Err(Error::ItemNotInCart(item.clone()));
    };
    match quantity {
        Some(0) => Err(Error::InvalidArguments(
            "quantity must be at least 1".into(),
        )),
        Some(q) if q < cart[pos].quantity => {
            cart[pos].quantity -= q;
            Ok(())
        }
        _ => {
            cart.remove(pos);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hc_domain::{OrderItem, PersonName, Variant};
    use indexmap::IndexMap;

    fn id<T: serde::de::DeserializeOwned>(s: &str) -> T {
        serde_json::from_value(serde_json::Value::String(s.into())).unwrap()
    }

    fn address() -> Address {
        Address {
            address1: "1 Main St".into(),
            address2: "".into(),
            city: "Austin".into(),
            country: "USA".into(),
            state: "TX".into(),
            zip: "78701".into(),
        }
    }

    fn variant(item: &str, color: &str, cents: i64, available: bool) -> Variant {
        Variant {
            item_id: id(item),
            options: IndexMap::from([("color".to_string(), color.to_string())]),
            available,
            price: Money::from_cents(cents),
            cost: None,
            stock: None,
        }
    }

    fn fixture() -> (Order, Customer, Products) {
        let product = Product {
            name: "Mug".into(),
            product_id: id("p1"),
            variants: [
                variant("i1", "red", 1000, true),
                variant("i2", "blue", 1500, true),
                variant("i3", "green", 800, true),
                variant("i4", "black", 900, false),
            ]
            .into_iter()
            .map(|v| (v.item_id.clone(), v))
            .collect(),
            description: None,
            category: None,
        };
        let item = OrderItem {
            name: "Mug".into(),
            product_id: id("p1"),
            item_id: id("i1"),
            price: Money::from_cents(1000),
            options: IndexMap::new(),
        };
        let payment = Payment {
            transaction_type: TransactionType::Payment,
            amount: Money::from_cents(2000),
            payment_method_id: id("gift_card_1"),
        };
        let order = Order::pending(
            id("#W0000001"),
            id("u1"),
            address(),
            vec![item.clone(), item],
            payment,
            None,
        );
        let methods = [
            PaymentMethod::GiftCard {
                id: id("gift_card_1"),
                balance: Money::from_cents(300),
            },
            PaymentMethod::CreditCard {
                id: id("credit_card_1"),
                brand: "visa".into(),
                last_four: "4242".into(),
            },
            PaymentMethod::GiftCard {
                id: id("gift_card_2"),
                balance: Money::from_cents(5000),
            },
        ];
        let customer = Customer {
            user_id: id("u1"),
            name: PersonName {
                first_name: "Ann".into(),
                last_name: "Lee".into(),
            },
            address: address(),
            email: "ann@example.com".into(),
            payment_methods: methods.into_iter().map(|m| (m.id().clone(), m)).collect(),
            orders: vec![id("#W0000001")],
            cart: Vec::new(),
        };
        let products = Products::from([(id("p1"), product)]);
        (order, customer, products)
    }

    fn reasons() -> Vec<String> {
        vec!["no longer needed".into(), "ordered by mistake".into()]
    }

    fn balance(c: &Customer, m: &str) -> i64 {
        match &c.payment_methods[&id::<PaymentMethodId>(m)] {
            PaymentMethod::GiftCard { balance, .. } => balance.cents(),
            _ => panic!("not a gift card"),
        }
    }

    #[test]
    fn cancel_refunds_every_payment_and_credits_gift_cards() {
        let (mut o, mut c, _) = fixture();
        cancel_pending_order(&mut o, &mut c, "no longer needed", &reasons()).unwrap();
        assert_eq!(o.status, OrderStatus::Cancelled);
        assert_eq!(o.cancel_reason.as_deref(), Some("no longer needed"));
        assert_eq!(o.payment_history.len(), 2);
        assert_eq!(
            o.payment_history[1].transaction_type,
            TransactionType::Refund
        );
        assert_eq!(balance(&c, "gift_card_1"), 2300);
    }

    #[test]
    fn cancel_rejects_bad_reason_and_non_pending_without_change() {
        let (mut o, mut c, _) = fixture();
        let before = (o.clone(), c.clone());
        let err = cancel_pending_order(&mut o, &mut c, "too slow", &reasons()).unwrap_err();
        assert_eq!(err.code(), "invalid_reason");
        assert_eq!((o.clone(), c.clone()), before);
        o.status = OrderStatus::Processed;
        let err = cancel_pending_order(&mut o, &mut c, "no longer needed", &reasons()).unwrap_err();
        assert_eq!(err.code(), "order_not_pending");
    }

    #[test]
    fn modify_items_with_zero_difference_still_records_a_refund() {
        let (mut o, mut c, p) = fixture();
        // Swap one red mug for... the same price is impossible here, so swap both ways.
        o.items[1].item_id = id("i2");
        o.items[1].price = Money::from_cents(1500);
        modify_pending_order_items(
            &mut o,
            &mut c,
            &[id("i1"), id("i2")],
            &[id("i2"), id("i1")],
            &id("credit_card_1"),
            &p,
        )
        .unwrap();
        let last = o.payment_history.last().unwrap();
        assert_eq!(last.transaction_type, TransactionType::Refund);
        assert_eq!(last.amount, Money::ZERO);
        assert_eq!(o.status, OrderStatus::PendingItemModified);
        // Each replaced item takes its own new variant's price and options.
        assert_eq!(o.items[0].item_id, id("i2"));
        assert_eq!(o.items[0].price.cents(), 1500);
        assert_eq!(o.items[1].item_id, id("i1"));
        assert_eq!(o.items[1].price.cents(), 1000);
        assert_eq!(o.items[1].options["color"], "red");
    }

    #[test]
    fn modify_items_charges_gift_card_and_is_allowed_once() {
        let (mut o, mut c, p) = fixture();
        let err = modify_pending_order_items(
            &mut o,
            &mut c,
            &[id("i1"), id("i1")],
            &[id("i2"), id("i2")],
            &id("gift_card_1"),
            &p,
        )
        .unwrap_err();
        assert_eq!(err.code(), "insufficient_gift_card_balance");
        modify_pending_order_items(
            &mut o,
            &mut c,
            &[id("i1"), id("i1")],
            &[id("i2"), id("i3")],
            &id("gift_card_2"),
            &p,
        )
        .unwrap();
        assert_eq!(balance(&c, "gift_card_2"), 5000 - 300);
        let last = o.payment_history.last().unwrap();
        assert_eq!(
            (last.transaction_type, last.amount.cents()),
            (TransactionType::Payment, 300)
        );
        let again = modify_pending_order_items(
            &mut o,
            &mut c,
            &[id("i2")],
            &[id("i1")],
            &id("gift_card_2"),
            &p,
        )
        .unwrap_err();
        assert_eq!(again.code(), "order_not_pending");
    }

    #[test]
    fn modify_items_checks_multiset_lengths_same_and_availability() {
        let (o, c, p) = fixture();
        let run = |old: &[&str], new: &[&str]| {
            let (mut o, mut c) = (o.clone(), c.clone());
            let old: Vec<ItemId> = old.iter().map(|s| id(s)).collect();
            let new: Vec<ItemId> = new.iter().map(|s| id(s)).collect();
            modify_pending_order_items(&mut o, &mut c, &old, &new, &id("credit_card_1"), &p)
                .unwrap_err()
                .code()
        };
        assert_eq!(
            run(&["i1", "i1", "i1"], &["i2", "i2", "i2"]),
            "item_not_in_order"
        );
        assert_eq!(run(&["i1"], &["i2", "i3"]), "item_count_mismatch");
        assert_eq!(run(&["i1"], &["i1"]), "same_item");
        assert_eq!(run(&["i1"], &["i4"]), "item_unavailable");
        assert_eq!(run(&["i1"], &["zz"]), "item_not_found");
    }

    #[test]
    fn modify_payment_moves_balance_between_gift_cards() {
        let (mut o, mut c, _) = fixture();
        let err = modify_pending_order_payment(&mut o, &mut c, &id("gift_card_1")).unwrap_err();
        assert_eq!(err.code(), "same_payment_method");
        modify_pending_order_payment(&mut o, &mut c, &id("gift_card_2")).unwrap();
        assert_eq!(balance(&c, "gift_card_2"), 3000);
        assert_eq!(balance(&c, "gift_card_1"), 2300);
        assert_eq!(o.payment_history.len(), 3);
        let err = modify_pending_order_payment(&mut o, &mut c, &id("credit_card_1")).unwrap_err();
        assert_eq!(err.code(), "payment_history_not_single");
    }

    #[test]
    fn exchange_records_sorted_items_and_moves_no_money() {
        let (mut o, c, p) = fixture();
        o.status = OrderStatus::Delivered;
        exchange_delivered_order_items(
            &mut o,
            &c,
            &[id("i1"), id("i1")],
            &[id("i3"), id("i2")],
            &id("credit_card_1"),
            &p,
        )
        .unwrap();
        assert_eq!(o.status, OrderStatus::ExchangeRequested);
        assert_eq!(o.exchange_new_items, Some(vec![id("i2"), id("i3")]));
        assert_eq!(o.exchange_price_difference, Some(Money::from_cents(300)));
        assert_eq!(o.payment_history.len(), 1);
    }

    #[test]
    fn return_only_to_original_method_or_gift_card() {
        let (mut o, c, _) = fixture();
        o.status = OrderStatus::Delivered;
        o.payment_history[0].payment_method_id = id("credit_card_1");
        let mut paypal_c = c.clone();
        paypal_c
            .payment_methods
            .insert(id("paypal_1"), PaymentMethod::Paypal { id: id("paypal_1") });
        let err =
            return_delivered_order_items(&mut o, &paypal_c, &[id("i1")], &id("paypal_1"), true)
                .unwrap_err();
        assert_eq!(err.code(), "refund_method_not_allowed");
        let err = return_delivered_order_items(&mut o, &c, &[id("i1")], &id("gift_card_2"), false)
            .unwrap_err();
        assert_eq!(err.code(), "refund_method_not_allowed");
        assert_eq!(
            o.status,
            OrderStatus::Delivered,
            "a refused return changes nothing"
        );
        return_delivered_order_items(&mut o, &c, &[id("i1")], &id("gift_card_2"), true).unwrap();
        assert_eq!(o.status, OrderStatus::ReturnRequested);
        assert_eq!(o.return_items, Some(vec![id("i1")]));
    }

    #[test]
    fn cart_lines_merge_and_respect_limits() {
        let mut cart = Vec::new();
        let a = ItemId::parse("1000000001").unwrap();
        let b = ItemId::parse("1000000002").unwrap();
        add_to_cart(&mut cart, &a, 2).unwrap();
        add_to_cart(&mut cart, &a, 3).unwrap();
        add_to_cart(&mut cart, &b, 1).unwrap();
        assert_eq!(cart.len(), 2);
        assert_eq!(cart[0].quantity, 5);
        assert_eq!(
            add_to_cart(&mut cart, &a, 0).unwrap_err().code(),
            "invalid_arguments"
        );
        assert_eq!(
            add_to_cart(&mut cart, &a, 16).unwrap_err().code(),
            "cart_full"
        );
        assert_eq!(cart[0].quantity, 5, "a refused add changes nothing");
        remove_from_cart(&mut cart, &a, Some(2)).unwrap();
        assert_eq!(cart[0].quantity, 3);
        remove_from_cart(&mut cart, &a, None).unwrap();
        assert_eq!(cart.len(), 1);
        assert_eq!(
            remove_from_cart(&mut cart, &a, None).unwrap_err().code(),
            "item_not_in_cart"
        );
    }
}
