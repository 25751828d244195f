//! The demo shop's articles: original policies consistent with the retail
//! rules (only pending orders are cancelled or changed, only delivered ones
//! returned or exchanged, refunds to the original method or a gift card).

use crate::base::ArticleDraft;

const ARTICLES: [(&str, &str, &[&str]); 6] = [
    (
        "shipping",
        include_str!("../demo/shipping.md"),
        &["shipping", "delivery", "tracking", "canada"],
    ),
    (
        "returns-and-refunds",
        include_str!("../demo/returns.md"),
        &["returns", "refunds"],
    ),
    (
        "exchanges",
        include_str!("../demo/exchanges.md"),
        &["exchanges", "sizes"],
    ),
    (
        "cancelling-or-changing-an-order",
        include_str!("../demo/cancellations.md"),
        &["cancellation", "order changes"],
    ),
    (
        "payment-methods",
        include_str!("../demo/payments.md"),
        &["payment", "gift cards", "paypal"],
    ),
    (
        "warranty-and-contact",
        include_str!("../demo/warranty.md"),
        &["warranty", "damaged", "contact"],
    ),
];

/// The demo articles, ready for [`crate::KnowledgeBase::upsert`].
pub fn demo_articles() -> Vec<ArticleDraft> {
    ARTICLES
        .iter()
        .map(|(slug, markdown, tags)| {
            let draft = ArticleDraft::from_markdown(markdown).expect("demo articles have a title");
            ArticleDraft {
                slug: Some((*slug).to_string()),
                tags: tags.iter().map(|t| (*t).to_string()).collect(),
                ..draft
            }
        })
        .collect()
}
