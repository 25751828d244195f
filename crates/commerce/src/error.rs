//! Errors of the retail actions. Each variant names the rule that failed and
//! maps to a stable snake_case code that API clients and the agent branch on.

use hc_domain::{ItemId, OrderId, OrderStatus, PaymentMethodId, ProductId, UserId};

use crate::ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("order {0} not found")]
    OrderNotFound(OrderId),
    #[error("user {0} not found")]
    UserNotFound(UserId),
    #[error("no user matches the given {0}")]
    UserNotMatched(&'static str),
    #[error("product {0} not found")]
    ProductNotFound(ProductId),
    #[error("item {0} not found")]
    ItemNotFound(ItemId),
    #[error("item {item} is not a variant of product {product}")]
    VariantNotInProduct { item: ItemId, product: ProductId },
    #[error("payment method {0} not found for this customer")]
    PaymentMethodNotFound(PaymentMethodId),
    #[error("order {order} is '{status}'; {rule}")]
    OrderNotPending {
        order: OrderId,
        status: OrderStatus,
        rule: &'static str,
    },
    #[error("order {order} is '{status}'; only delivered orders can be {action}")]
    OrderNotDelivered {
        order: OrderId,
        status: OrderStatus,
        action: &'static str,
    },
    #[error("invalid cancellation reason; use one of: {allowed}")]
    InvalidReason { allowed: String },
    #[error("item {0} is not in the order (or not that many times)")]
    ItemNotInOrder(ItemId),
    #[error("item_ids and new_item_ids must have the same length ({old} vs {new})")]
    ItemCountMismatch { old: usize, new: usize },
    #[error("new item {0} is the same as the old item")]
    SameItem(ItemId),
    #[error("item {0} is not available")]
    ItemUnavailable(ItemId),
    #[error("item {0} is not in the cart")]
    ItemNotInCart(ItemId),
    #[error("the cart is full: {0}")]
    CartFull(String),
    #[error("the cart is empty")]
    EmptyCart,
    #[error("gift card {id} balance {balance} does not cover {needed}")]
    InsufficientGiftCardBalance {
        id: PaymentMethodId,
        balance: String,
        needed: String,
    },
    #[error("the order's payment history must be exactly one payment to change the method")]
    PaymentHistoryNotSingle,
    #[error("payment method {0} is already the order's payment method")]
    SamePaymentMethod(PaymentMethodId),
    #[error("refunds go to the original payment method or a gift card, not {0}")]
    RefundMethodNotAllowed(PaymentMethodId),
    #[error("loyalty points: {0}")]
    Loyalty(String),
    #[error("invalid expression: {0}")]
    InvalidExpression(String),
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    #[error("unknown tool {0}")]
    UnknownTool(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// The stable wire code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::OrderNotFound(_) => "order_not_found",
            Error::UserNotFound(_) | Error::UserNotMatched(_) => "user_not_found",
            Error::ProductNotFound(_) => "product_not_found",
            Error::ItemNotFound(_) | Error::VariantNotInProduct { .. } => "item_not_found",
            Error::PaymentMethodNotFound(_) => "payment_method_not_found",
            Error::OrderNotPending { .. } => "order_not_pending",
            Error::OrderNotDelivered { .. } => "order_not_delivered",
            Error::InvalidReason { .. } => "invalid_reason",
            Error::ItemNotInOrder(_) => "item_not_in_order",
            Error::ItemCountMismatch { .. } => "item_count_mismatch",
            Error::SameItem(_) => "same_item",
            Error::ItemUnavailable(_) => "item_unavailable",
            Error::ItemNotInCart(_) => "item_not_in_cart",
            Error::CartFull(_) => "cart_full",
            Error::EmptyCart => "empty_cart",
            Error::InsufficientGiftCardBalance { .. } => "insufficient_gift_card_balance",
            Error::PaymentHistoryNotSingle => "payment_history_not_single",
            Error::SamePaymentMethod(_) => "same_payment_method",
            Error::RefundMethodNotAllowed(_) => "refund_method_not_allowed",
            Error::InvalidExpression(_) => "invalid_expression",
            Error::Loyalty(_) => "loyalty_refused",
            Error::InvalidArguments(_) => "invalid_arguments",
            Error::UnknownTool(_) => "unknown_tool",
            Error::AlreadyExists(_) => "already_exists",
            Error::Store(StoreError::Conflict(_)) => "conflict",
            Error::Store(StoreError::Unavailable(_)) => "unavailable",
            Error::Store(StoreError::Corrupt(_)) => "internal",
        }
    }

    /// What kind of failure this is, for callers that map errors to protocols.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::OrderNotFound(_)
            | Error::UserNotFound(_)
            | Error::UserNotMatched(_)
            | Error::ProductNotFound(_)
            | Error::ItemNotFound(_)
            | Error::UnknownTool(_)
            | Error::PaymentMethodNotFound(_) => ErrorKind::NotFound,
            Error::InvalidArguments(_) | Error::InvalidExpression(_) => ErrorKind::Invalid,
            Error::AlreadyExists(_) | Error::Store(StoreError::Conflict(_)) => ErrorKind::Conflict,
            Error::Store(StoreError::Unavailable(_)) => ErrorKind::Unavailable,
            Error::Store(StoreError::Corrupt(_)) => ErrorKind::Internal,
            _ => ErrorKind::Rule,
        }
    }
}

/// Broad classes of [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Invalid,
    /// A business rule (precondition) refused the action.
    Rule,
    Conflict,
    Unavailable,
    Internal,
}

impl From<hc_domain::Error> for Error {
    fn from(e: hc_domain::Error) -> Self {
        Error::InvalidArguments(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
