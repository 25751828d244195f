//! The agent's tool registry: every retail tool with its exact name, a JSON
//! schema of its arguments (the function format LLM APIs accept) and the
//! dispatch from `(name, JSON arguments)` to [`Retail`]. Arguments are parsed
//! strictly: unknown or missing fields and wrong types are `invalid_arguments`.

use hc_domain::{Address, ItemId, Money, OrderId, PaymentMethodId, ProductId, UserId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::ports::Actor;
use crate::service::{OrderLine, Retail};

/// Whether a tool only reads or also writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    Read,
    Write,
}

/// A tool's public description.
#[derive(Clone, Debug, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: ToolKind,
    /// JSON schema of the arguments object.
    pub parameters: Value,
}

impl ToolSpec {
    /// The OpenAI-style function definition: `{"type": "function", "function": {...}}`.
    pub fn as_function(&self) -> Value {
        json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            }
        })
    }
}

#[derive(Clone, Copy)]
enum P {
    Str(&'static str, &'static str),
    StrList(&'static str, &'static str),
    Num(&'static str, &'static str),
    Bool(&'static str, &'static str),
    Int(&'static str, &'static str),
    Lines,
    Addr,
}

/// Builds an object schema; parameters named in `optional` are not required.
fn schema(params: &[P], optional: &[&str]) -> Value {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    let mut add = |name: &str, s: Value| {
        if !optional.contains(&name) {
            required.push(name.to_string());
        }
        props.insert(name.to_string(), s);
    };
    for p in params {
        match *p {
            P::Str(n, d) => add(n, json!({"type": "string", "description": d})),
            P::StrList(n, d) => add(
                n,
                json!({"type": "array", "items": {"type": "string"}, "description": d}),
            ),
            P::Num(n, d) => add(n, json!({"type": "number", "description": d})),
            P::Bool(n, d) => add(n, json!({"type": "boolean", "description": d})),
            P::Int(n, d) => add(
                n,
                json!({"type": "integer", "minimum": 1, "description": d}),
            ),
            P::Lines => add(
                "items",
                json!({"type": "array", "description": "Items to buy.", "items": {
                "type": "object", "additionalProperties": false, "required": ["item_id"],
                "properties": {
                    "item_id": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1, "default": 1}
                }}}),
            ),
            P::Addr => {
                for (n, d) in ADDRESS_FIELDS {
                    add(n, json!({"type": "string", "description": d}));
                }
            }
        }
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

const ADDRESS_FIELDS: [(&str, &str); 6] = [
    (
        "address1",
        "First line of the address, such as '123 Main St'.",
    ),
    (
        "address2",
        "Second line of the address, such as 'Apt 1' or ''.",
    ),
    ("city", "City, such as 'San Francisco'."),
    ("state", "State, such as 'CA'."),
    ("country", "Country, such as 'USA'."),
    ("zip", "Zip code, such as '12345'."),
];

const ORDER_ID: P = P::Str(
    "order_id",
    "The order id, such as '#W0000000' (note the leading '#').",
);
const USER_ID: P = P::Str("user_id", "The user id, such as 'sara_doe_496'.");
const ITEM_ID: P = P::Str("item_id", "The item id, such as '1008292230'.");
const PAYMENT: P = P::Str(
    "payment_method_id",
    "A payment method id of the customer, such as 'gift_card_0000000' or 'credit_card_0000000'.",
);
const ITEM_IDS: P = P::StrList(
    "item_ids",
    "Item ids in the order; repeat an id to act on several units.",
);
const NEW_ITEM_IDS: P = P::StrList(
    "new_item_ids",
    "New item ids, position by position: each a variant of the same product as the old item.",
);

const LOYALTY_POINTS: P = P::Int(
    "loyalty_points",
    "Loyalty points to pay part of the order with (see loyalty_balance; the shop caps the share of an order points may pay). Given back if the order is cancelled.",
);

/// The registry of tools over a [`Retail`] service.
#[derive(Clone)]
pub struct Tools {
    retail: Retail,
    specs: std::sync::Arc<[ToolSpec]>,
}

fn spec(
    name: &'static str,
    kind: ToolKind,
    description: &'static str,
    params: &[P],
    optional: &[&str],
) -> ToolSpec {
    ToolSpec {
        name,
        description,
        kind,
        parameters: schema(params, optional),
    }
}

fn all_specs() -> Vec<ToolSpec> {
    use ToolKind::{Read, Write};
    vec![
        spec(
            "find_user_id_by_email",
            Read,
            "Find a customer's user id by email (case-insensitive).",
            &[P::Str(
                "email",
                "The email, such as 'something@example.com'.",
            )],
            &[],
        ),
        spec(
            "find_user_id_by_name_zip",
            Read,
            "Find a customer's user id by first name, last name and zip code (names case-insensitive). Use when the customer cannot give their email.",
            &[
                P::Str("first_name", "First name, such as 'John'."),
                P::Str("last_name", "Last name, such as 'Doe'."),
                P::Str("zip", "Zip code, such as '12345'."),
            ],
            &[],
        ),
        spec(
            "get_user_details",
            Read,
            "Get a customer's details: name, address, email, payment methods and order ids.",
            &[USER_ID],
            &[],
        ),
        spec(
            "get_order_details",
            Read,
            "Get the status and details of an order.",
            &[ORDER_ID],
            &[],
        ),
        spec(
            "get_product_details",
            Read,
            "Get a product and all its variants (items). Takes a product id, not an item id.",
            &[P::Str(
                "product_id",
                "The product id, such as '6086499569'.",
            )],
            &[],
        ),
        spec(
            "get_item_details",
            Read,
            "Get one item (variant): its options, availability and price.",
            &[ITEM_ID],
            &[],
        ),
        spec(
            "list_all_product_types",
            Read,
            "List every product type: a map from product name to product id, sorted by name.",
            &[],
            &[],
        ),
        spec(
            "calculate",
            Read,
            "Evaluate an arithmetic expression with numbers, + - * / ( ) and spaces; the result is rounded to 2 decimals.",
            &[P::Str("expression", "Such as '2 + 2'.")],
            &[],
        ),
        spec(
            "transfer_to_human_agents",
            Read,
            "Transfer the customer to a human agent with a summary that lets the human continue without asking again. Only when the request is outside the available actions or the customer insists.",
            &[P::Str(
                "summary",
                "A summary of the customer's issue and what was done.",
            )],
            &[],
        ),
        spec(
            "cancel_pending_order",
            Write,
            "Cancel a pending order. Every payment is refunded to its method (gift cards at once, other methods in 5-7 business days).",
            &[
                ORDER_ID,
                P::Str(
                    "reason",
                    "Either 'no longer needed' or 'ordered by mistake'.",
                ),
            ],
            &[],
        ),
        spec(
            "modify_pending_order_address",
            Write,
            "Change the shipping address of a pending order.",
            &[ORDER_ID, P::Addr],
            &[],
        ),
        spec(
            "modify_pending_order_payment",
            Write,
            "Move a pending order's payment to another of the customer's payment methods.",
            &[ORDER_ID, PAYMENT],
            &[],
        ),
        spec(
            "modify_pending_order_items",
            Write,
            "Swap items of a pending order for other variants of the same products. Allowed once per order: collect every change first. The price difference is charged or refunded to the payment method.",
            &[ORDER_ID, ITEM_IDS, NEW_ITEM_IDS, PAYMENT],
            &[],
        ),
        spec(
            "exchange_delivered_order_items",
            Write,
            "Request an exchange of delivered items for other variants of the same products. Allowed once per order: collect every item first.",
            &[ORDER_ID, ITEM_IDS, NEW_ITEM_IDS, PAYMENT],
            &[],
        ),
        spec(
            "return_delivered_order_items",
            Write,
            "Request a return of delivered items; the refund goes to the original payment method or a gift card.",
            &[ORDER_ID, ITEM_IDS, PAYMENT],
            &[],
        ),
        spec(
            "modify_user_address",
            Write,
            "Change a customer's default address.",
            &[USER_ID, P::Addr],
            &[],
        ),
        spec(
            "search_products",
            Read,
            "Search the catalog by words in names, categories, descriptions and options; optionally only available variants at or under a price.",
            &[
                P::Str("query", "Words to look for, such as 'waterproof boots'."),
                P::Num("max_price", "Highest acceptable price."),
                P::Bool("available_only", "Only variants in stock (default true)."),
                P::Int("limit", "At most this many products (default 10)."),
            ],
            &["max_price", "available_only", "limit"],
        ),
        spec(
            "recommend_products",
            Read,
            "Suggest products: those most often bought together with a product or with a customer's past purchases, then the most popular. Only products in stock.",
            &[
                P::Str("product_id", "Suggest what goes with this product."),
                USER_ID,
                P::Int("limit", "At most this many (default 5)."),
            ],
            &["product_id", "user_id", "limit"],
        ),
        spec(
            "track_order",
            Read,
            "Summarise an order's shipments: tracking ids and the items in each, and which items have not shipped.",
            &[ORDER_ID],
            &[],
        ),
        spec(
            "add_to_cart",
            Write,
            "Add units of an available product variant to the customer's cart (merging with the same item). Needs no confirmation: nothing is bought until checkout_cart.",
            &[
                USER_ID,
                ITEM_ID,
                P::Int("quantity", "Units to add, 1 to 20 (default 1)."),
            ],
            &["quantity"],
        ),
        spec(
            "remove_from_cart",
            Write,
            "Take units of an item out of the customer's cart (all of them unless quantity is given).",
            &[
                USER_ID,
                ITEM_ID,
                P::Int("quantity", "Units to take out (default: all)."),
            ],
            &["quantity"],
        ),
        spec(
            "view_cart",
            Read,
            "The customer's cart: each item with its name, options, unit price, quantity and availability, and the subtotal.",
            &[USER_ID],
            &[],
        ),
        spec(
            "checkout_cart",
            Write,
            "Order everything in the customer's cart, paid with one of their saved payment methods (less the loyalty points used, if any), shipped to their default address; empties the cart.",
            &[USER_ID, PAYMENT, LOYALTY_POINTS],
            &["loyalty_points"],
        ),
        spec(
            "place_order",
            Write,
            "Place a new pending order for a customer, paid with one of their saved payment methods (less the loyalty points used, if any), shipped to their default address.",
            &[USER_ID, P::Lines, PAYMENT, LOYALTY_POINTS],
            &["loyalty_points"],
        ),
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailArgs {
    email: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameZipArgs {
    first_name: String,
    last_name: String,
    zip: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserArgs {
    user_id: UserId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderArgs {
    order_id: OrderId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductArgs {
    product_id: ProductId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemArgs {
    item_id: ItemId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalcArgs {
    expression: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryArgs {
    summary: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelArgs {
    order_id: OrderId,
    reason: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderAddressArgs {
    order_id: OrderId,
    address1: String,
    address2: String,
    city: String,
    state: String,
    country: String,
    zip: String,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserAddressArgs {
    user_id: UserId,
    address1: String,
    address2: String,
    city: String,
    state: String,
    country: String,
    zip: String,
}

macro_rules! address_of {
    ($a:expr) => {
        Address {
            address1: $a.address1,
            address2: $a.address2,
            city: $a.city,
            state: $a.state,
            country: $a.country,
            zip: $a.zip,
        }
    };
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentArgs {
    order_id: OrderId,
    payment_method_id: PaymentMethodId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwapArgs {
    order_id: OrderId,
    item_ids: Vec<ItemId>,
    new_item_ids: Vec<ItemId>,
    payment_method_id: PaymentMethodId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnArgs {
    order_id: OrderId,
    item_ids: Vec<ItemId>,
    payment_method_id: PaymentMethodId,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchArgs {
    query: String,
    #[serde(default)]
    max_price: Option<Money>,
    #[serde(default)]
    available_only: Option<bool>,
    #[serde(default)]
    limit: Option<u32>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecommendArgs {
    #[serde(default)]
    product_id: Option<ProductId>,
    #[serde(default)]
    user_id: Option<UserId>,
    #[serde(default)]
    limit: Option<u32>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartArgs {
    user_id: UserId,
    item_id: ItemId,
    quantity: Option<u32>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutArgs {
    user_id: UserId,
    payment_method_id: PaymentMethodId,
    #[serde(default)]
    loyalty_points: Option<u64>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceOrderArgs {
    user_id: UserId,
    items: Vec<OrderLine>,
    payment_method_id: PaymentMethodId,
    #[serde(default)]
    loyalty_points: Option<u64>,
}

const MAX_TEXT: usize = 4096;

fn args<T: DeserializeOwned>(value: Value) -> Result<T> {
    // Tools without parameters accept `null` as well as `{}`.
    let value = if value.is_null() { json!({}) } else { value };
    if !value.is_object() {
        return Err(Error::InvalidArguments(
            "arguments must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value).map_err(|e| Error::InvalidArguments(e.to_string()))
}

fn check_len(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_TEXT {
        return Err(Error::InvalidArguments(format!(
            "{field} must be at most {MAX_TEXT} bytes"
        )));
    }
    Ok(())
}

fn check_address(a: &Address) -> Result<()> {
    for (name, value) in [
        ("address1", &a.address1),
        ("address2", &a.address2),
        ("city", &a.city),
        ("state", &a.state),
        ("country", &a.country),
        ("zip", &a.zip),
    ] {
        check_len(name, value)?;
    }
    if a.address1.trim().is_empty() || a.city.trim().is_empty() || a.zip.trim().is_empty() {
        return Err(Error::InvalidArguments(
            "address1, city and zip must not be empty".into(),
        ));
    }
    Ok(())
}

/// Serialises a tool's result once, straight to JSON text.
fn to_value<T: Serialize>(v: T) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(&v).map_err(|e| Error::InvalidArguments(e.to_string()))
}

impl Tools {
    pub fn new(retail: Retail) -> Self {
        Self {
            retail,
            specs: all_specs().into(),
        }
    }

    pub fn retail(&self) -> &Retail {
        &self.retail
    }

    pub fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    pub fn spec(&self, name: &str) -> Option<&ToolSpec> {
        self.specs.iter().find(|s| s.name == name)
    }

    /// Runs a tool for the actor's tenant. Returns the record the tool returns,
    /// or its text, as JSON.
    pub async fn call(&self, actor: &Actor, name: &str, arguments: Value) -> Result<Box<RawValue>> {
        let r = &self.retail;
        match name {
            "find_user_id_by_email" => {
                let a: EmailArgs = args(arguments)?;
                check_len("email", &a.email)?;
                to_value(r.find_user_id_by_email(actor, &a.email).await?)
            }
            "find_user_id_by_name_zip" => {
                let a: NameZipArgs = args(arguments)?;
                for (f, v) in [
                    ("first_name", &a.first_name),
                    ("last_name", &a.last_name),
                    ("zip", &a.zip),
                ] {
                    check_len(f, v)?;
                }
                to_value(
                    r.find_user_id_by_name_zip(actor, &a.first_name, &a.last_name, &a.zip)
                        .await?,
                )
            }
            "get_user_details" => {
                let a: UserArgs = args(arguments)?;
                to_value(r.customer(actor, &a.user_id).await?)
            }
            "get_order_details" => {
                let a: OrderArgs = args(arguments)?;
                to_value(r.order(actor, &a.order_id).await?)
            }
            "get_product_details" => {
                let a: ProductArgs = args(arguments)?;
                to_value(r.product(actor, &a.product_id).await?)
            }
            "get_item_details" => {
                let a: ItemArgs = args(arguments)?;
                to_value(r.item(actor, &a.item_id).await?)
            }
            "list_all_product_types" => {
                let _: NoArgs = args(arguments)?;
                to_value(r.product_types(actor).await?)
            }
            "calculate" => {
                let a: CalcArgs = args(arguments)?;
                to_value(crate::calc::calculate(&a.expression)?)
            }
            "transfer_to_human_agents" => {
                let a: SummaryArgs = args(arguments)?;
                check_len("summary", &a.summary)?;
                to_value("Transfer successful")
            }
            "cancel_pending_order" => {
                let a: CancelArgs = args(arguments)?;
                check_len("reason", &a.reason)?;
                to_value(
                    r.cancel_pending_order(actor, &a.order_id, &a.reason)
                        .await?,
                )
            }
            "modify_pending_order_address" => {
                let a: OrderAddressArgs = args(arguments)?;
                let (order_id, address) = (a.order_id.clone(), address_of!(a));
                check_address(&address)?;
                to_value(
                    r.modify_pending_order_address(actor, &order_id, address)
                        .await?,
                )
            }
            "modify_pending_order_payment" => {
                let a: PaymentArgs = args(arguments)?;
                to_value(
                    r.modify_pending_order_payment(actor, &a.order_id, &a.payment_method_id)
                        .await?,
                )
            }
            "modify_pending_order_items" => {
                let a: SwapArgs = args(arguments)?;
                to_value(
                    r.modify_pending_order_items(
                        actor,
                        &a.order_id,
                        &a.item_ids,
                        &a.new_item_ids,
                        &a.payment_method_id,
                    )
                    .await?,
                )
            }
            "exchange_delivered_order_items" => {
                let a: SwapArgs = args(arguments)?;
                to_value(
                    r.exchange_delivered_order_items(
                        actor,
                        &a.order_id,
                        &a.item_ids,
                        &a.new_item_ids,
                        &a.payment_method_id,
                    )
                    .await?,
                )
            }
            "return_delivered_order_items" => {
                let a: ReturnArgs = args(arguments)?;
                to_value(
                    r.return_delivered_order_items(
                        actor,
                        &a.order_id,
                        &a.item_ids,
                        &a.payment_method_id,
                    )
                    .await?,
                )
            }
            "modify_user_address" => {
                let a: UserAddressArgs = args(arguments)?;
                let (user_id, address) = (a.user_id.clone(), address_of!(a));
                check_address(&address)?;
                to_value(r.modify_user_address(actor, &user_id, address).await?)
            }
            "search_products" => {
                let a: SearchArgs = args(arguments)?;
                check_len("query", &a.query)?;
                let limit = a.limit.unwrap_or(10).clamp(1, 50) as usize;
                let available_only = a.available_only.unwrap_or(true);
                to_value(
                    r.search_products(actor, &a.query, a.max_price, available_only, limit)
                        .await?,
                )
            }
            "recommend_products" => {
                let a: RecommendArgs = args(arguments)?;
                let limit = a.limit.unwrap_or(5).clamp(1, 20) as usize;
                to_value(
                    r.recommend_products(actor, a.product_id.as_ref(), a.user_id.as_ref(), limit)
                        .await?,
                )
            }
            "track_order" => {
                let a: OrderArgs = args(arguments)?;
                to_value(r.track_order(actor, &a.order_id).await?)
            }
            "add_to_cart" => {
                let a: CartArgs = args(arguments)?;
                to_value(
                    r.add_to_cart(actor, &a.user_id, &a.item_id, a.quantity.unwrap_or(1))
                        .await?,
                )
            }
            "remove_from_cart" => {
                let a: CartArgs = args(arguments)?;
                to_value(
                    r.remove_from_cart(actor, &a.user_id, &a.item_id, a.quantity)
                        .await?,
                )
            }
            "view_cart" => {
                let a: UserArgs = args(arguments)?;
                to_value(r.view_cart(actor, &a.user_id).await?)
            }
            "checkout_cart" => {
                let a: CheckoutArgs = args(arguments)?;
                to_value(
                    r.checkout_cart(actor, &a.user_id, &a.payment_method_id, a.loyalty_points)
                        .await?,
                )
            }
            "place_order" => {
                let a: PlaceOrderArgs = args(arguments)?;
                to_value(
                    r.place_order(
                        actor,
                        &a.user_id,
                        &a.items,
                        &a.payment_method_id,
                        None,
                        a.loyalty_points,
                    )
                    .await?,
                )
            }
            other => Err(Error::UnknownTool(other.chars().take(64).collect())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_is_an_object_schema_and_names_are_unique() {
        let specs = all_specs();
        let mut names: Vec<_> = specs.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), specs.len());
        for s in &specs {
            assert_eq!(s.parameters["type"], "object", "{}", s.name);
            assert_eq!(s.parameters["additionalProperties"], false);
        }
        let addr = specs
            .iter()
            .find(|s| s.name == "modify_user_address")
            .unwrap();
        let required = addr.parameters["required"].as_array().unwrap();
        assert_eq!(required.len(), 7, "user_id and six address fields");
    }
}
