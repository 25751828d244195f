//! The retail service: each action runs in one store transaction that loads
//! the aggregates, applies a pure rule from [`crate::rules`], saves, writes an
//! audit record and commits. A failed rule drops the transaction, so nothing
//! changes.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use hc_domain::{
    Address, AuditRecord, Customer, ItemId, LoyaltyPayment, Money, Order, OrderId, OrderItem,
    OrderStatus, Payment, PaymentMethodId, Product, ProductId, TenantId, TenantSettings,
    TransactionType, UserId, now_ms,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::instrument;

use crate::error::{Error, Result};
use crate::ports::{Actor, LoyaltyWallet, Page, PageRequest, PolicySource, RetailStore, RetailTx};
use crate::rules::{self, Products};
use crate::text::fold;

/// Policy parameters the retail actions honour: the server's defaults, which
/// a tenant's [`TenantSettings`] override (see [`Retail::use_policy_source`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetailPolicy {
    /// Reasons a customer may give to cancel a pending order.
    pub cancel_reasons: Vec<String>,
    /// Whether a return may be refunded to a gift card (SPEC §5: the original
    /// method or a gift card).
    pub refund_to_gift_card: bool,
}

impl Default for RetailPolicy {
    fn default() -> Self {
        Self {
            cancel_reasons: vec!["no longer needed".into(), "ordered by mistake".into()],
            refund_to_gift_card: true,
        }
    }
}

impl RetailPolicy {
    /// The policy for a tenant with `settings`: its cancel reasons when set,
    /// gift-card refunds only if both the server and the tenant allow them.
    pub fn for_tenant(&self, settings: &TenantSettings) -> RetailPolicy {
        RetailPolicy {
            cancel_reasons: settings
                .cancel_reasons
                .clone()
                .unwrap_or_else(|| self.cancel_reasons.clone()),
            refund_to_gift_card: self.refund_to_gift_card && settings.refund_to_gift_card,
        }
    }
}

/// A customer's cart as shown to them.
#[derive(Clone, Debug, Serialize)]
pub struct CartView {
    pub user_id: UserId,
    pub lines: Vec<CartViewLine>,
    pub subtotal: Money,
}

#[derive(Clone, Debug, Serialize)]
pub struct CartViewLine {
    pub item_id: ItemId,
    pub product_id: hc_domain::ProductId,
    pub name: String,
    pub options: hc_domain::retail::Options,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
    /// Still available to order.
    pub available: bool,
}

/// The cart of `customer` priced from `products` (lines whose item is gone are left out).
fn cart_view(customer: &Customer, products: &[Product]) -> CartView {
    let mut lines = Vec::new();
    for line in &customer.cart {
        let Some((product, v)) = products
            .iter()
            .find_map(|p| p.variants.get(&line.item_id).map(|v| (p, v)))
        else {
            continue;
        };
        lines.push(CartViewLine {
            item_id: v.item_id.clone(),
            product_id: product.product_id.clone(),
            name: product.name.clone(),
            options: v.options.clone(),
            unit_price: v.price,
            quantity: line.quantity,
            line_total: Money::from_cents(v.price.cents() * i64::from(line.quantity)),
            available: v.available,
        });
    }
    CartView {
        user_id: customer.user_id.clone(),
        subtotal: lines.iter().map(|l| l.line_total).sum(),
        lines,
    }
}

/// One line of a new order.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub item_id: ItemId,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// The retail actions over a store. Cheap to clone (shared, immutable parts).
#[derive(Clone)]
pub struct Retail {
    store: Arc<dyn RetailStore>,
    policy: Arc<RetailPolicy>,
    /// Where the tenants' settings come from; shared by every clone so the
    /// composition root can wire it once after the tools are built.
    policies: Arc<OnceLock<Arc<dyn PolicySource>>>,
    /// Loyalty points as part payment; wired once by the composition root.
    wallet: Arc<OnceLock<Arc<dyn LoyaltyWallet>>>,
}

/// What a new order is placed with: its lines, the saved payment method,
/// the loyalty points paying part of it, and the address (default: the
/// customer's).
struct NewOrder<'a> {
    lines: &'a [OrderLine],
    method: &'a PaymentMethodId,
    points: Option<u64>,
    address: Option<Address>,
}

/// A suggested product and why.
#[derive(Clone, Debug, Serialize)]
pub struct Recommendation {
    pub product_id: ProductId,
    pub name: String,
    /// Lowest price of an available variant.
    pub from_price: hc_domain::Money,
    /// "bought together" or "popular".
    pub reason: &'static str,
    /// Orders behind the reason.
    pub score: usize,
}

/// Shipment summary returned by `track_order`.
#[derive(Clone, Debug, Serialize)]
pub struct Tracking {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub shipments: Vec<Shipment>,
    pub unshipped_item_ids: Vec<ItemId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Shipment {
    pub tracking_ids: Vec<String>,
    pub items: Vec<String>,
}

impl Retail {
    pub fn new(store: Arc<dyn RetailStore>, policy: RetailPolicy) -> Self {
        Self {
            store,
            policy: Arc::new(policy),
            policies: Arc::default(),
            wallet: Arc::default(),
        }
    }

    /// Lets every clone of this service take loyalty points as part payment
    /// of new orders (and give them back when such an order is cancelled).
    /// Only the first call takes effect; returns whether this one did.
    pub fn use_loyalty_wallet(&self, wallet: Arc<dyn LoyaltyWallet>) -> bool {
        self.wallet.set(wallet).is_ok()
    }

    /// Makes every clone of this service honour each tenant's settings read
    /// from `source` (cancel reasons, refunds to gift cards). Only the first
    /// call takes effect; returns whether this one did.
    pub fn use_policy_source(&self, source: Arc<dyn PolicySource>) -> bool {
        self.policies.set(source).is_ok()
    }

    /// The policy in force for tenant `t`: the configured one overridden by
    /// the tenant's settings, if a source is wired.
    pub async fn policy_for(&self, t: &TenantId) -> Result<RetailPolicy> {
        match self.policies.get() {
            Some(source) => Ok(self.policy.for_tenant(&*source.settings(t).await?)),
            None => Ok((*self.policy).clone()),
        }
    }

    pub fn store(&self) -> &Arc<dyn RetailStore> {
        &self.store
    }

    pub fn policy(&self) -> &RetailPolicy {
        &self.policy
    }

    // ----- reads -------------------------------------------------------------

    pub async fn find_user_id_by_email(&self, actor: &Actor, email: &str) -> Result<UserId> {
        self.store
            .find_by_email(&actor.tenant, &fold(email))
            .await?
            .ok_or(Error::UserNotMatched("email"))
    }

    pub async fn find_user_id_by_name_zip(
        &self,
        actor: &Actor,
        first: &str,
        last: &str,
        zip: &str,
    ) -> Result<UserId> {
        self.store
            .find_by_name_zip(&actor.tenant, &fold(first), &fold(last), zip.trim())
            .await?
            .ok_or(Error::UserNotMatched("name and zip"))
    }

    pub async fn customer(&self, actor: &Actor, id: &UserId) -> Result<Customer> {
        self.store
            .customer(&actor.tenant, id)
            .await?
            .ok_or_else(|| Error::UserNotFound(id.clone()))
    }

    pub async fn order(&self, actor: &Actor, id: &OrderId) -> Result<Order> {
        self.store
            .order(&actor.tenant, id)
            .await?
            .ok_or_else(|| Error::OrderNotFound(id.clone()))
    }

    pub async fn product(&self, actor: &Actor, id: &ProductId) -> Result<Product> {
        self.store
            .product(&actor.tenant, id)
            .await?
            .ok_or_else(|| Error::ProductNotFound(id.clone()))
    }

    pub async fn item(&self, actor: &Actor, id: &ItemId) -> Result<hc_domain::Variant> {
        self.store
            .product_of_item(&actor.tenant, id)
            .await?
            .and_then(|mut p| p.variants.shift_remove(id))
            .ok_or_else(|| Error::ItemNotFound(id.clone()))
    }

    /// Product name → product id, sorted by name.
    pub async fn product_types(&self, actor: &Actor) -> Result<BTreeMap<String, ProductId>> {
        Ok(self
            .store
            .product_names(&actor.tenant)
            .await?
            .into_iter()
            .collect())
    }

    /// Products matching the query's terms, best first, optionally only
    /// those with an available variant at or under `max_price`. A term found
    /// in the name counts most, then the category, then an option value or
    /// the description; filler words ("do you have") are ignored, and a query
    /// of filler alone lists the catalog.
    pub async fn search_products(
        &self,
        actor: &Actor,
        query: &str,
        max_price: Option<hc_domain::Money>,
        available_only: bool,
        limit: usize,
    ) -> Result<Vec<Product>> {
        let wanted = crate::text::terms(query);
        let mut hits: Vec<(u32, Product)> = Vec::new();
        let mut page = PageRequest::new(None, Some(PageRequest::MAX_LIMIT));
        loop {
            let Page { items, next_cursor } =
                self.store.list_products(&actor.tenant, None, &page).await?;
            for mut product in items {
                let score = match_score(&wanted, &product);
                if !wanted.is_empty() && score == 0 {
                    continue;
                }
                product.variants.retain(|_, v| {
                    (!available_only || v.available) && max_price.is_none_or(|m| v.price <= m)
                });
                if !product.variants.is_empty() {
                    hits.push((score, product));
                }
            }
            match next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        Ok(hits.into_iter().take(limit).map(|(_, p)| p).collect())
    }

    /// Products to suggest, best first: those most often bought together with
    /// `product` (or with what `user` has bought before), topped up with the
    /// most popular products. Only products with an available variant; never
    /// the anchor product or what the user already has.
    pub async fn recommend_products(
        &self,
        actor: &Actor,
        product: Option<&ProductId>,
        user: Option<&UserId>,
        limit: usize,
    ) -> Result<Vec<Recommendation>> {
        use std::collections::{HashMap, HashSet};
        let mut anchors: HashSet<ProductId> = product.into_iter().cloned().collect();
        if let Some(u) = user {
            let customer = self.customer(actor, u).await?;
            for id in &customer.orders {
                if let Some(o) = self.store.order(&actor.tenant, id).await? {
                    anchors.extend(o.items.iter().map(|i| i.product_id.clone()));
                }
            }
        }
        let mut together: HashMap<ProductId, usize> = HashMap::new();
        let mut popular: HashMap<ProductId, usize> = HashMap::new();
        let mut page = PageRequest::new(None, Some(PageRequest::MAX_LIMIT));
        loop {
            let batch = self
                .store
                .list_orders(&actor.tenant, &crate::ports::OrderFilter::default(), &page)
                .await?;
            for order in &batch.items {
                let in_order: HashSet<&ProductId> =
                    order.items.iter().map(|i| &i.product_id).collect();
                let has_anchor = in_order.iter().any(|p| anchors.contains(*p));
                for p in in_order {
                    *popular.entry(p.clone()).or_default() += 1;
                    if has_anchor && !anchors.contains(p) {
                        *together.entry(p.clone()).or_default() += 1;
                    }
                }
            }
            match batch.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        let mut ranked: Vec<(ProductId, &'static str, usize)> = together
            .into_iter()
            .map(|(p, n)| (p, "bought together", n))
            .collect();
        ranked.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let mut by_popularity: Vec<(ProductId, usize)> = popular.into_iter().collect();
        by_popularity.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.extend(by_popularity.into_iter().map(|(p, n)| (p, "popular", n)));
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (id, reason, n) in ranked {
            if out.len() >= limit || anchors.contains(&id) || !seen.insert(id.clone()) {
                continue;
            }
            if let Some(p) = self.store.product(&actor.tenant, &id).await?
                && let Some(from) = p
                    .variants
                    .values()
                    .filter(|v| v.available)
                    .map(|v| v.price)
                    .min()
            {
                out.push(Recommendation {
                    product_id: id,
                    name: p.name.clone(),
                    from_price: from,
                    reason,
                    score: n,
                });
            }
        }
        Ok(out)
    }

    /// Shipments of an order with item names, and which items have not shipped.
    pub async fn track_order(&self, actor: &Actor, id: &OrderId) -> Result<Tracking> {
        let order = self.order(actor, id).await?;
        let name_of = |item: &ItemId| {
            order
                .items
                .iter()
                .find(|i| &i.item_id == item)
                .map(|i| i.name.clone())
                .unwrap_or_else(|| item.to_string())
        };
        let shipped: Vec<&ItemId> = order
            .fulfillments
            .iter()
            .flat_map(|f| &f.item_ids)
            .collect();
        Ok(Tracking {
            order_id: order.order_id.clone(),
            status: order.status,
            shipments: order
                .fulfillments
                .iter()
                .map(|f| Shipment {
                    tracking_ids: f.tracking_id.clone(),
                    items: f.item_ids.iter().map(name_of).collect(),
                })
                .collect(),
            unshipped_item_ids: order
                .items
                .iter()
                .map(|i| i.item_id.clone())
                .filter(|i| !shipped.contains(&i))
                .collect(),
        })
    }

    // ----- writes ------------------------------------------------------------

    async fn load_order(tx: &mut dyn RetailTx, id: &OrderId) -> Result<Order> {
        tx.order(id)
            .await?
            .ok_or_else(|| Error::OrderNotFound(id.clone()))
    }

    async fn load_customer(tx: &mut dyn RetailTx, id: &UserId) -> Result<Customer> {
        tx.customer(id)
            .await?
            .ok_or_else(|| Error::UserNotFound(id.clone()))
    }

    async fn load_products(
        tx: &mut dyn RetailTx,
        order: &Order,
        old: &[ItemId],
    ) -> Result<Products> {
        let mut products = Products::new();
        for item in order.items.iter().filter(|i| old.contains(&i.item_id)) {
            if !products.contains_key(&item.product_id)
                && let Some(p) = tx.product(&item.product_id).await?
            {
                products.insert(p.product_id.clone(), p);
            }
        }
        Ok(products)
    }

    async fn finish(
        tx: Box<dyn RetailTx>,
        actor: &Actor,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) -> Result<()> {
        let mut tx = tx;
        tx.audit(&AuditRecord {
            tenant_id: actor.tenant.clone(),
            actor: actor.principal.clone(),
            action: action.to_string(),
            target,
            at_ms: now_ms(),
            detail,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, order = %order_id))]
    pub async fn cancel_pending_order(
        &self,
        actor: &Actor,
        order_id: &OrderId,
        reason: &str,
    ) -> Result<Order> {
        let policy = self.policy_for(&actor.tenant).await?;
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut order = Self::load_order(tx.as_mut(), order_id).await?;
        let mut customer = Self::load_customer(tx.as_mut(), &order.user_id).await?;
        rules::cancel_pending_order(&mut order, &mut customer, reason, &policy.cancel_reasons)?;
        tx.put_order(&order).await?;
        tx.put_customer(&customer).await?;
        let detail = json!({"reason": reason});
        Self::finish(
            tx,
            actor,
            "tool.cancel_pending_order",
            format!("order:{order_id}"),
            detail,
        )
        .await?;
        if let (Some(paid), Some(wallet)) = (&order.loyalty, self.wallet.get()) {
            // After the commit: a cancel that did not happen gives nothing
            // back. Keyed by the order, so a repeat restores once.
            let key = format!("order/{order_id}/cancelled");
            if let Err(e) = wallet
                .restore(&actor.tenant, &order.user_id, paid.points, &key)
                .await
            {
                tracing::error!(order = %order_id, error = %e, "points of a cancelled order not restored");
                return Err(Error::Loyalty(format!(
                    "the order is cancelled, but its {} points could not be given back yet: {e}",
                    paid.points
                )));
            }
        }
        Ok(order)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, order = %order_id))]
    pub async fn modify_pending_order_address(
        &self,
        actor: &Actor,
        order_id: &OrderId,
        address: Address,
    ) -> Result<Order> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut order = Self::load_order(tx.as_mut(), order_id).await?;
        let detail = json!({"address": &address});
        rules::modify_pending_order_address(&mut order, address)?;
        tx.put_order(&order).await?;
        let target = format!("order:{order_id}");
        Self::finish(
            tx,
            actor,
            "tool.modify_pending_order_address",
            target,
            detail,
        )
        .await?;
        Ok(order)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, order = %order_id))]
    pub async fn modify_pending_order_payment(
        &self,
        actor: &Actor,
        order_id: &OrderId,
        method: &PaymentMethodId,
    ) -> Result<Order> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut order = Self::load_order(tx.as_mut(), order_id).await?;
        let mut customer = Self::load_customer(tx.as_mut(), &order.user_id).await?;
        rules::modify_pending_order_payment(&mut order, &mut customer, method)?;
        tx.put_order(&order).await?;
        tx.put_customer(&customer).await?;
        let detail = json!({"payment_method_id": method});
        let target = format!("order:{order_id}");
        Self::finish(
            tx,
            actor,
            "tool.modify_pending_order_payment",
            target,
            detail,
        )
        .await?;
        Ok(order)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, order = %order_id))]
    pub async fn modify_pending_order_items(
        &self,
        actor: &Actor,
        order_id: &OrderId,
        item_ids: &[ItemId],
        new_item_ids: &[ItemId],
        method: &PaymentMethodId,
    ) -> Result<Order> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut order = Self::load_order(tx.as_mut(), order_id).await?;
        let mut customer = Self::load_customer(tx.as_mut(), &order.user_id).await?;
        let products = Self::load_products(tx.as_mut(), &order, item_ids).await?;
        rules::modify_pending_order_items(
            &mut order,
            &mut customer,
            item_ids,
            new_item_ids,
            method,
            &products,
        )?;
        tx.put_order(&order).await?;
        tx.put_customer(&customer).await?;
        let detail = json!({"item_ids": item_ids, "new_item_ids": new_item_ids, "payment_method_id": method});
        let target = format!("order:{order_id}");
        Self::finish(tx, actor, "tool.modify_pending_order_items", target, detail).await?;
        Ok(order)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, order = %order_id))]
    pub async fn exchange_delivered_order_items(
        &self,
        actor: &Actor,
        order_id: &OrderId,
        item_ids: &[ItemId],
        new_item_ids: &[ItemId],
        method: &PaymentMethodId,
    ) -> Result<Order> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut order = Self::load_order(tx.as_mut(), order_id).await?;
        let customer = Self::load_customer(tx.as_mut(), &order.user_id).await?;
        let products = Self::load_products(tx.as_mut(), &order, item_ids).await?;
        rules::exchange_delivered_order_items(
            &mut order,
            &customer,
            item_ids,
            new_item_ids,
            method,
            &products,
        )?;
        tx.put_order(&order).await?;
        let detail = json!({"item_ids": item_ids, "new_item_ids": new_item_ids, "payment_method_id": method});
        let target = format!("order:{order_id}");
        Self::finish(
            tx,
            actor,
            "tool.exchange_delivered_order_items",
            target,
            detail,
        )
        .await?;
        Ok(order)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, order = %order_id))]
    pub async fn return_delivered_order_items(
        &self,
        actor: &Actor,
        order_id: &OrderId,
        item_ids: &[ItemId],
        method: &PaymentMethodId,
    ) -> Result<Order> {
        let policy = self.policy_for(&actor.tenant).await?;
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut order = Self::load_order(tx.as_mut(), order_id).await?;
        let customer = Self::load_customer(tx.as_mut(), &order.user_id).await?;
        rules::return_delivered_order_items(
            &mut order,
            &customer,
            item_ids,
            method,
            policy.refund_to_gift_card,
        )?;
        tx.put_order(&order).await?;
        let detail = json!({"item_ids": item_ids, "payment_method_id": method});
        let target = format!("order:{order_id}");
        Self::finish(
            tx,
            actor,
            "tool.return_delivered_order_items",
            target,
            detail,
        )
        .await?;
        Ok(order)
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, user = %user_id))]
    pub async fn modify_user_address(
        &self,
        actor: &Actor,
        user_id: &UserId,
        address: Address,
    ) -> Result<Customer> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut customer = Self::load_customer(tx.as_mut(), user_id).await?;
        let detail = json!({"address": &address});
        customer.address = address;
        tx.put_customer(&customer).await?;
        let target = format!("user:{user_id}");
        Self::finish(tx, actor, "tool.modify_user_address", target, detail).await?;
        Ok(customer)
    }

    /// Creates a pending order for a customer, paid in full with one of their
    /// saved methods (a gift card is debited at once and must cover the total).
    /// Ships to `address`, or the customer's default address.
    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, user = %user_id))]
    pub async fn place_order(
        &self,
        actor: &Actor,
        user_id: &UserId,
        lines: &[OrderLine],
        method: &PaymentMethodId,
        address: Option<Address>,
        loyalty_points: Option<u64>,
    ) -> Result<Order> {
        const MAX_UNITS: u32 = 100;
        if lines.is_empty() {
            return Err(Error::InvalidArguments(
                "an order needs at least one item".into(),
            ));
        }
        let units: u32 = lines.iter().map(|l| l.quantity).sum();
        if lines.iter().any(|l| l.quantity == 0) || units > MAX_UNITS {
            return Err(Error::InvalidArguments(format!(
                "each quantity must be at least 1 and an order at most {MAX_UNITS} units"
            )));
        }
        let mut tx = self.store.begin(&actor.tenant).await?;
        let customer = Self::load_customer(tx.as_mut(), user_id).await?;
        let new = NewOrder {
            lines,
            method,
            points: loyalty_points,
            address,
        };
        self.place_order_in(tx, actor, customer, new, "tool.place_order")
            .await
    }

    /// Places `new` inside `tx` for `customer` (saved with the order) and
    /// commits. Loyalty points are burned before the order is written and
    /// given back if it is not.
    async fn place_order_in(
        &self,
        mut tx: Box<dyn RetailTx>,
        actor: &Actor,
        mut customer: Customer,
        new: NewOrder<'_>,
        action: &str,
    ) -> Result<Order> {
        let NewOrder {
            lines,
            method,
            points,
            address,
        } = new;
        let user_id = &customer.user_id.clone();
        let mut items = Vec::new();
        for line in lines {
            let product = tx
                .product_of_item(&line.item_id)
                .await?
                .ok_or_else(|| Error::ItemNotFound(line.item_id.clone()))?;
            let variant = &product.variants[&line.item_id];
            if !variant.available {
                return Err(Error::ItemUnavailable(line.item_id.clone()));
            }
            for _ in 0..line.quantity {
                items.push(OrderItem {
                    name: product.name.clone(),
                    product_id: product.product_id.clone(),
                    item_id: variant.item_id.clone(),
                    price: variant.price,
                    options: variant.options.clone(),
                });
            }
        }
        let total: Money = items.iter().map(|i| i.price).sum();
        let payment_method = customer
            .payment_methods
            .get(method)
            .ok_or_else(|| Error::PaymentMethodNotFound(method.clone()))?
            .clone();
        let order_id = Self::fresh_order_id(tx.as_mut()).await?;
        let wallet = match points {
            None | Some(0) => None,
            Some(p) => Some((
                p,
                self.wallet.get().ok_or_else(|| {
                    Error::Loyalty("this shop takes no loyalty points here".into())
                })?,
            )),
        };
        // Points are burned first (once per order id); from here on a
        // failure gives them back.
        let loyalty = match wallet {
            None => None,
            Some((p, w)) => {
                let key = format!("order/{order_id}");
                let discount = w
                    .redeem(&actor.tenant, user_id, p, total, &key)
                    .await
                    .map_err(Error::Loyalty)?;
                Some((
                    LoyaltyPayment {
                        points: p,
                        discount,
                    },
                    w,
                ))
            }
        };
        let charged = total - loyalty.as_ref().map_or(Money::ZERO, |(l, _)| l.discount);
        let paid_with_points = loyalty.as_ref().map(|(l, _)| l.clone());
        let id = order_id.clone();
        let placed = async move {
            if let hc_domain::PaymentMethod::GiftCard { id, balance } = &payment_method
                && *balance < charged
            {
                return Err(Error::InsufficientGiftCardBalance {
                    id: id.clone(),
                    balance: balance.to_string(),
                    needed: charged.to_string(),
                });
            }
            let payment = Payment {
                transaction_type: TransactionType::Payment,
                amount: charged,
                payment_method_id: method.clone(),
            };
            let address = address.unwrap_or_else(|| customer.address.clone());
            let mut order = Order::pending(
                id.clone(),
                user_id.clone(),
                address,
                items,
                payment,
                Some(now_ms()),
            );
            order.loyalty = paid_with_points;
            customer.credit_gift_card(method, -charged);
            customer.orders.push(id.clone());
            tx.put_order(&order).await?;
            tx.put_customer(&customer).await?;
            let detail = json!({"lines": lines, "payment_method_id": method, "total": total,
                                "charged": charged, "loyalty": order.loyalty});
            Self::finish(tx, actor, action, format!("order:{id}"), detail).await?;
            Ok(order)
        }
        .await;
        if let (Err(_), Some((l, w))) = (&placed, &loyalty) {
            let key = format!("order/{order_id}/not-placed");
            if let Err(e) = w.restore(&actor.tenant, user_id, l.points, &key).await {
                tracing::error!(order = %order_id, error = %e, "points of an order not placed not restored");
            }
        }
        placed
    }

    /// The customer's cart with names, prices and availability.
    pub async fn view_cart(&self, actor: &Actor, user_id: &UserId) -> Result<CartView> {
        let customer = self
            .store
            .customer(&actor.tenant, user_id)
            .await?
            .ok_or_else(|| Error::UserNotFound(user_id.clone()))?;
        let mut products = Vec::new();
        for line in &customer.cart {
            products.extend(
                self.store
                    .product_of_item(&actor.tenant, &line.item_id)
                    .await?,
            );
        }
        Ok(cart_view(&customer, &products))
    }

    async fn cart_view_in(tx: &mut dyn RetailTx, customer: &Customer) -> Result<CartView> {
        let mut products = Vec::new();
        for line in &customer.cart {
            products.extend(tx.product_of_item(&line.item_id).await?);
        }
        Ok(cart_view(customer, &products))
    }

    /// Adds `quantity` units of an available variant (merging with a line of the same item).
    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, user = %user_id))]
    pub async fn add_to_cart(
        &self,
        actor: &Actor,
        user_id: &UserId,
        item_id: &ItemId,
        quantity: u32,
    ) -> Result<CartView> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut customer = Self::load_customer(tx.as_mut(), user_id).await?;
        let product = tx
            .product_of_item(item_id)
            .await?
            .ok_or_else(|| Error::ItemNotFound(item_id.clone()))?;
        if !product.variants[item_id].available {
            return Err(Error::ItemUnavailable(item_id.clone()));
        }
        rules::add_to_cart(&mut customer.cart, item_id, quantity)?;
        tx.put_customer(&customer).await?;
        let view = Self::cart_view_in(tx.as_mut(), &customer).await?;
        let detail = json!({"item_id": item_id, "quantity": quantity});
        Self::finish(
            tx,
            actor,
            "tool.add_to_cart",
            format!("user:{user_id}"),
            detail,
        )
        .await?;
        Ok(view)
    }

    /// Takes `quantity` units (all when `None`) of an item out of the cart.
    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, user = %user_id))]
    pub async fn remove_from_cart(
        &self,
        actor: &Actor,
        user_id: &UserId,
        item_id: &ItemId,
        quantity: Option<u32>,
    ) -> Result<CartView> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut customer = Self::load_customer(tx.as_mut(), user_id).await?;
        rules::remove_from_cart(&mut customer.cart, item_id, quantity)?;
        tx.put_customer(&customer).await?;
        let view = Self::cart_view_in(tx.as_mut(), &customer).await?;
        let detail = json!({"item_id": item_id, "quantity": quantity});
        Self::finish(
            tx,
            actor,
            "tool.remove_from_cart",
            format!("user:{user_id}"),
            detail,
        )
        .await?;
        Ok(view)
    }

    /// Orders everything in the cart with a saved payment method and empties the cart, atomically.
    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, user = %user_id))]
    pub async fn checkout_cart(
        &self,
        actor: &Actor,
        user_id: &UserId,
        method: &PaymentMethodId,
        loyalty_points: Option<u64>,
    ) -> Result<Order> {
        let mut tx = self.store.begin(&actor.tenant).await?;
        let mut customer = Self::load_customer(tx.as_mut(), user_id).await?;
        if customer.cart.is_empty() {
            return Err(Error::EmptyCart);
        }
        let lines: Vec<OrderLine> = std::mem::take(&mut customer.cart)
            .into_iter()
            .map(|l| OrderLine {
                item_id: l.item_id,
                quantity: l.quantity,
            })
            .collect();
        let new = NewOrder {
            lines: &lines,
            method,
            points: loyalty_points,
            address: None,
        };
        self.place_order_in(tx, actor, customer, new, "tool.checkout_cart")
            .await
    }

    async fn fresh_order_id(tx: &mut dyn RetailTx) -> Result<OrderId> {
        use std::hash::{BuildHasher, Hasher};
        for _ in 0..32 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_i64(now_ms());
            let candidate = OrderId::from_number((h.finish() % 10_000_000) as u32);
            if tx.order(&candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
        Err(Error::Store(crate::ports::StoreError::Conflict(
            "could not allocate an order id".into(),
        )))
    }

    /// Creates or replaces a product. Item ids must not belong to another product.
    #[instrument(level = "debug", skip_all, fields(tenant = %actor.tenant, product = %product.product_id))]
    pub async fn upsert_product(&self, actor: &Actor, product: Product) -> Result<Product> {
        validate_product(&product)?;
        let mut tx = self.store.begin(&actor.tenant).await?;
        for item in product.variants.keys() {
            if let Some(owner) = tx.product_of_item(item).await?
                && owner.product_id != product.product_id
            {
                return Err(Error::AlreadyExists(format!(
                    "item {item} (a variant of product {})",
                    owner.product_id
                )));
            }
        }
        let existed = tx.product(&product.product_id).await?.is_some();
        tx.put_product(&product).await?;
        let action = if existed {
            "product.update"
        } else {
            "product.create"
        };
        let target = format!("product:{}", product.product_id);
        Self::finish(tx, actor, action, target, json!({"name": product.name})).await?;
        Ok(product)
    }
}

/// Checks a product's own consistency before it is stored.
pub fn validate_product(product: &Product) -> Result<()> {
    let invalid = |m: String| Err(Error::InvalidArguments(m));
    if product.name.trim().is_empty() || product.name.len() > 200 {
        return invalid("name must be 1 to 200 characters".into());
    }
    if product.variants.is_empty() {
        return invalid("a product needs at least one variant".into());
    }
    for (key, v) in &product.variants {
        if key != &v.item_id {
            return invalid(format!(
                "variant key {key} differs from its item_id {}",
                v.item_id
            ));
        }
        if v.price.cents() < 0 || v.cost.is_some_and(|c| c.cents() < 0) {
            return invalid(format!("variant {key} has a negative price or cost"));
        }
        if v.item_id.as_str() == product.product_id.as_str() {
            return invalid("item ids and product ids are separate namespaces".into());
        }
    }
    Ok(())
}

/// How well `product` matches the query `terms`: per term, 4 if it is a word
/// of the name, 3 of the category, 1 of an option value or the description.
fn match_score(terms: &[String], product: &Product) -> u32 {
    use crate::text::terms as words;
    if terms.is_empty() {
        return 0;
    }
    let name = words(&product.name);
    let category = words(product.category.as_deref().unwrap_or(""));
    let mut other = words(product.description.as_deref().unwrap_or(""));
    for v in product.variants.values() {
        for value in v.options.values() {
            other.extend(words(value));
        }
    }
    terms
        .iter()
        .map(|t| {
            if name.contains(t) {
                4
            } else if category.contains(t) {
                3
            } else if other.contains(t) {
                1
            } else {
                0
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::match_score;
    use crate::text::terms;
    use hc_domain::Product;

    fn product(name: &str, category: &str, option: &str) -> Product {
        serde_json::from_value(serde_json::json!({
            "name": name, "product_id": "1000000001", "category": category,
            "variants": {"2000000001": {"item_id": "2000000001", "options": {"feature": option},
                                        "available": true, "price": 10.0}}
        }))
        .unwrap()
    }

    #[test]
    fn the_named_product_outranks_ones_sharing_a_word_or_an_option() {
        let q = terms("do you have waterproof hiking boots?");
        let boots = match_score(&q, &product("Hiking Boots", "footwear", "leather"));
        let backpack = match_score(&q, &product("Hiking Backpack", "bags", "waterproof"));
        let tent = match_score(&q, &product("Camping Tent", "outdoor", "waterproof"));
        assert!(boots > backpack, "{boots} vs {backpack}");
        assert!(backpack > tent, "{backpack} vs {tent}");
        assert_eq!(
            match_score(
                &terms("do you have it?"),
                &product("Camping Tent", "outdoor", "x")
            ),
            0,
            "filler words match nothing"
        );
    }
}
