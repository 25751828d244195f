//! The OpenAPI document, generated from the handlers' annotations, and the
//! offline API reference (Swagger UI with its assets compiled in).

use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api;

/// `{"error": {"code": "snake_case", "message": "..."}}`
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code to branch on.
    pub code: String,
    pub message: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // The Postmark inbound webhook: credentials from `server.channels`.
        components.add_security_scheme(
            "postmark_basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "HyperCommerce API", description = "Self-hosted AI commerce engine. Authenticate with `Authorization: Bearer hc_…`. Errors are `{\"error\": {\"code\", \"message\"}}`. Write endpoints honour `Idempotency-Key`."),
    modifiers(&BearerAuth),
    paths(
        api::health::healthz, api::health::readyz, api::health::metrics_text,
        api::tools::list_tools, api::tools::call_tool,
        api::catalog::list_products, api::catalog::get_product, api::catalog::create_product, api::catalog::update_product,
        api::customers::list_customers, api::customers::get_customer, api::customers::delete_customer, api::customers::get_memory, api::customers::delete_memory, api::customers::get_insights, api::customers::post_rescore,
        api::triggers::create_trigger, api::triggers::list_triggers, api::triggers::delete_trigger,
        api::orders::list_orders, api::orders::get_order,
        api::conversations::create_conversation, api::conversations::send_message, api::conversations::send_message_streaming, api::conversations::get_conversation, api::conversations::list_conversations, api::conversations::list_inbox, api::conversations::human_reply, api::conversations::hand_back, api::conversations::close_conversation, api::conversations::get_stats, api::conversations::list_outbox,
        api::keys::list_keys, api::keys::create_key, api::keys::revoke_key,
        api::knowledge::create_article, api::knowledge::put_article, api::knowledge::list_articles, api::knowledge::get_article, api::knowledge::delete_article, api::knowledge::search_knowledge,
        api::audit::list_audit,
        api::ledger::get_checkpoint, api::ledger::get_keys, api::ledger::get_tile, api::ledger::get_inclusion_proof, api::ledger::get_consistency_proof, api::ledger::get_proof_bundle,
        api::loyalty::earn_points, api::loyalty::redeem_points, api::loyalty::transfer_points, api::loyalty::quote_discount, api::loyalty::get_balance, api::loyalty::get_program, api::loyalty::put_program, api::loyalty::erase_customer, api::loyalty::create_network, api::loyalty::get_network, api::loyalty::admit_merchant, api::loyalty::join_network, api::loyalty::leave_network, api::settlements::get_settlements, api::settlements::list_obligations, api::settlements::record_payment, api::loyalty_proofs::get_history, api::loyalty_proofs::create_receipt, api::loyalty_proofs::create_threshold_proof,
        api::registry::register_agent, api::registry::get_agent, api::registry::put_agent_config, api::registry::report_outcomes, api::registry::transfer_agent, api::registry::put_revenue_share, api::registry::record_sale, api::registry::get_deployment, api::registry::put_deployment, api::registry::measure_now,
        api::events::post_events, api::recommendations::recommend, api::events::list_events, api::events::list_quarantine, api::events::get_session, api::events::get_session_insights,
        api::settings::get_settings, api::settings::put_settings,
        api::pricing::put_rules, api::pricing::get_rules, api::pricing::put_category_rules, api::pricing::get_category_rules, api::pricing::get_price, api::pricing::quote, api::pricing::get_history, api::pricing::reprice, api::pricing::list_approvals, api::pricing::approve, api::pricing::reject, api::pricing::post_competitors, api::pricing::post_observations,
        api::channels::receive_sms, api::channels::receive_voice, api::channels::receive_email, api::channels::receive_sms_shared, api::channels::receive_voice_shared, api::channels::receive_email_shared,
    ),
    components(schemas(ErrorBody, ErrorDetail, api::tools::ToolOutput, api::keys::CreateKey, api::keys::CreatedKey, api::conversations::CreateConversation, api::conversations::SendMessage, api::conversations::CloseConversation, api::knowledge::ArticleIn, api::knowledge::ArticleOut, api::channels::EmailReceived, api::ledger::InclusionProof, api::ledger::ConsistencyProof, api::loyalty::EarnIn, api::loyalty::RedeemIn, api::loyalty::TransferIn, api::loyalty::QuoteIn, api::loyalty::QuoteOut, api::loyalty::LoyaltyReceipt, api::loyalty::BalanceOut, api::loyalty::Expiry, api::loyalty::ErasureOut, api::loyalty::NetworkIn, api::loyalty::MerchantIn, api::loyalty::NetworkOut, api::settlements::Position, api::settlements::SettlementsOut, api::settlements::Obligation, api::settlements::ObligationsOut, api::settlements::PaymentIn, api::loyalty_proofs::HistoryOut, api::loyalty_proofs::ReceiptIn, api::loyalty_proofs::ThresholdIn, api::registry::AgentConfigIn, api::registry::RegisterIn, api::registry::AgentOut, api::registry::OutcomesIn, api::registry::TransferAgentIn, api::registry::ShareIn, api::registry::ShareOut, api::registry::SaleIn, api::registry::SettlementOut, api::registry::SaleOut, api::registry::DeploymentIn, api::registry::DeploymentOut, api::registry::MeasuredOut, crate::reputation::Measured, api::events::Accepted, api::recommendations::RecommendIn, api::recommendations::Filters))
)]
pub struct ApiDoc;
