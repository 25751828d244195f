//! The customer behavior service over `hc_behavior::customers`: each
//! tenant's fitted customer models (kept in the database as a versioned
//! artifact and for a few minutes in the process), batch rescoring of all of
//! a tenant's customers (nightly, on request, or `hypercommerce customers
//! rescore`), and triggers: merchant rules that queue a signed webhook in
//! the durable outbox when a customer's churn risk crosses a threshold (at
//! rescoring) or a session ends with an abandoned cart (a sweep every
//! `behavior.trigger_sweep_secs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hc_behavior::customers::{CUSTOMER_MODEL_VERSION, CustomerModel, CustomerScores, FIT_SAMPLE};
use hc_domain::outbox::{DeliveryKind, NewDelivery};
use hc_domain::{
    CustomerHistory, CustomerScoreRecord, EventType, TenantId, Trigger, TriggerCondition,
};
use hc_store::Firing;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A model loaded into the process is used this long before the database is read again.
const CACHE_MS: i64 = 5 * 60 * 1000;
/// Customers read, scored and stored per step of a rescoring.
pub const PAGE: u32 = 5_000;

struct Cached {
    model: Arc<CustomerModel>,
    loaded_at_ms: i64,
}

/// The tenants' customer models in this process.
#[derive(Default)]
pub struct CustomerModels {
    models: tokio::sync::Mutex<HashMap<TenantId, Cached>>,
}

impl CustomerModels {
    async fn put(&self, t: &TenantId, model: Arc<CustomerModel>) {
        self.models.lock().await.insert(
            t.clone(),
            Cached {
                model,
                loaded_at_ms: hc_domain::now_ms(),
            },
        );
    }
}

/// An even sample of `t`'s customer histories (as of `now_ms`), at most
/// twice [`FIT_SAMPLE`], and how many customers there are: pages are read in
/// id order and every `stride`-th customer kept, the stride doubling (and
/// every other kept one dropped) whenever the sample grows too large.
async fn sample_histories(
    state: &AppState,
    t: &TenantId,
    now_ms: i64,
) -> ApiResult<(Vec<CustomerHistory>, usize)> {
    let (mut kept, mut stride, mut seen) = (Vec::new(), 1usize, 0usize);
    let mut after: Option<String> = None;
    loop {
        let page = state
            .platform
            .customer_histories(t, after.as_deref(), PAGE, now_ms)
            .await?;
        let n = page.len();
        after = page.last().map(|h| h.customer.clone());
        for h in page {
            if seen % stride == 0 {
                kept.push(h);
            }
            seen += 1;
            if kept.len() >= 2 * FIT_SAMPLE {
                kept = kept.into_iter().step_by(2).collect();
                stride *= 2;
            }
        }
        if n < PAGE as usize {
            return Ok((kept, seen));
        }
    }
}

/// Fits `t`'s customer models on all its customers as of now, stores the
/// artifact and caches it.
pub async fn fit(state: &AppState, t: &TenantId) -> ApiResult<Arc<CustomerModel>> {
    let now = hc_domain::now_ms();
    let (sample, total) = sample_histories(state, t, now).await?;
    let model = tokio::task::spawn_blocking(move || CustomerModel::fit_sample(&sample, total, now))
        .await
        .map_err(ApiError::internal)?;
    state
        .platform
        .put_customer_model(t, CUSTOMER_MODEL_VERSION, &model.to_json(), now)
        .await?;
    let model = Arc::new(model);
    state.customer_models.put(t, model.clone()).await;
    Ok(model)
}

/// `t`'s customer model: the process's copy (≤ 5 minutes old), else the
/// stored artifact if it is younger than `behavior.model_max_age_secs`
/// (and readable by this version), else a new fit.
pub async fn model(state: &AppState, t: &TenantId) -> ApiResult<Arc<CustomerModel>> {
    let now = hc_domain::now_ms();
    if let Some(c) = state.customer_models.models.lock().await.get(t)
        && now - c.loaded_at_ms < CACHE_MS
    {
        return Ok(c.model.clone());
    }
    let max_age = state.config.behavior.model_max_age_secs as i64 * 1000;
    if let Some((doc, fitted_at)) = state.platform.customer_model(t).await?
        && now - fitted_at < max_age
    {
        match CustomerModel::from_json(&doc) {
            Ok(m) => {
                let m = Arc::new(m);
                state.customer_models.put(t, m.clone()).await;
                return Ok(m);
            }
            Err(e) => {
                tracing::warn!(tenant = %t, error = %e, "stored customer model unreadable; refitting")
            }
        }
    }
    fit(state, t).await
}

/// The stored form of a customer's scores.
pub fn record(customer: &str, s: &CustomerScores, at_ms: i64) -> CustomerScoreRecord {
    CustomerScoreRecord {
        user_id: customer.to_string(),
        orders: s.profile.orders,
        churn: s.churn.as_ref().map(|c| c.probability),
        churn_basis: s.churn.as_ref().map(|c| c.basis.to_string()),
        p_alive: s.p_alive,
        expected_purchases_90d: s.expected_purchases_90d,
        clv_365d: s.clv_365d,
        segment: s.segment.as_ref().map(|g| g.name.clone()),
        scored_at_ms: at_ms,
    }
}

/// What a rescoring did.
#[derive(Debug, Clone, Serialize)]
pub struct RescoreReport {
    pub customers: u64,
    /// Customers with a churn probability (the others have no orders, or the shop's data cannot support one).
    pub scored_churn: u64,
    /// Churn-risk triggers that fired.
    pub triggers_fired: u64,
    /// Seconds reading histories and fitting the models.
    pub fit_seconds: f64,
    /// Seconds reading, scoring and storing every customer.
    pub score_seconds: f64,
    pub model: Value,
}

/// A summary of a fitted model for the API.
pub fn model_summary(m: &CustomerModel) -> Value {
    json!({
        "version": m.version,
        "fitted_at_ms": m.fitted_at_ms,
        "customers": m.customers,
        "buyers": m.buyers,
        "repeat_buyers": m.repeat_buyers,
        "churn": if m.churn.is_some() { "gbt" } else if m.bg_nbd.is_some() { "bg_nbd" } else { "unavailable" },
        "purchases": if m.bg_nbd.is_some() { "bg_nbd" } else { "unavailable" },
        "clv": if m.gamma_gamma.is_some() { "bg_nbd+gamma_gamma" } else { "unavailable" },
        "segments": m.segments.as_ref().map(|s| s.names.clone()),
        "notes": m.notes,
    })
}

/// A trigger's webhook, queued in the outbox.
pub fn webhook(t: &TenantId, trigger: &Trigger, event: &str, body: Value) -> NewDelivery {
    NewDelivery {
        tenant_id: t.clone(),
        conversation_id: None,
        kind: DeliveryKind::Webhook,
        payload: json!({
            "url": trigger.webhook_url,
            "trigger_id": trigger.id,
            "event": event,
            "body": body,
        }),
    }
}

/// Refits `t`'s models (unless `refit` is false and a stored model is
/// fresh), then scores every customer and stores the scores page by page;
/// churn-risk triggers fire on customers whose churn probability rose across
/// their threshold since the previous scoring.
pub async fn rescore(state: &AppState, t: &TenantId, refit: bool) -> ApiResult<RescoreReport> {
    let started = std::time::Instant::now();
    let model = if refit {
        fit(state, t).await?
    } else {
        model(state, t).await?
    };
    let fit_seconds = started.elapsed().as_secs_f64();
    let triggers: Vec<(Trigger, f64)> = state
        .platform
        .list_triggers(t)
        .await?
        .into_iter()
        .filter_map(|tr| match tr.condition {
            TriggerCondition::ChurnRisk { threshold } => Some((tr, threshold)),
            _ => None,
        })
        .collect();
    let now = hc_domain::now_ms();
    let mut after: Option<String> = None;
    let (mut customers, mut scored_churn, mut fired) = (0u64, 0u64, 0u64);
    let scoring = std::time::Instant::now();
    loop {
        let page = state
            .platform
            .customer_histories(t, after.as_deref(), PAGE, now)
            .await?;
        let (Some(first), Some(last)) = (page.first(), page.last()) else {
            break;
        };
        let (first, last) = (first.customer.clone(), last.customer.clone());
        let full = page.len() == PAGE as usize;
        let m = model.clone();
        let records: Vec<CustomerScoreRecord> = tokio::task::spawn_blocking(move || {
            page.iter()
                .map(|h| record(&h.customer, &m.score_quick(h, now), now))
                .collect()
        })
        .await
        .map_err(ApiError::internal)?;
        let mut firings = Vec::new();
        // Per firing: its trigger and customer (for a proactive message).
        let mut about: Vec<(&Trigger, String)> = Vec::new();
        if !triggers.is_empty() {
            let before: HashMap<String, Option<f64>> = state
                .platform
                .customer_scores_between(t, &first, &last)
                .await?
                .into_iter()
                .map(|r| (r.user_id, r.churn))
                .collect();
            for r in &records {
                let (Some(Some(was)), Some(now_p)) = (before.get(&r.user_id), r.churn) else {
                    continue;
                };
                for (tr, threshold) in &triggers {
                    if *was < *threshold && now_p >= *threshold {
                        about.push((tr, r.user_id.clone()));
                        firings.push(Firing {
                            trigger_id: tr.id.clone(),
                            subject: format!("customer:{}:{now}", r.user_id),
                            delivery: webhook(
                                t,
                                tr,
                                "churn_risk",
                                json!({
                                    "event": "churn_risk", "trigger_id": tr.id, "trigger_name": tr.name,
                                    "tenant": t, "customer_id": r.user_id, "threshold": threshold,
                                    "previous": was, "churn": now_p, "segment": r.segment,
                                    "clv_365d": r.clv_365d, "at_ms": now,
                                }),
                            ),
                        });
                    }
                }
            }
        }
        customers += records.len() as u64;
        scored_churn += records.iter().filter(|r| r.churn.is_some()).count() as u64;
        let new = state
            .platform
            .put_customer_scores(t, &records, &firings)
            .await?;
        for &i in &new {
            let (tr, customer) = &about[i];
            crate::proactive::on_firing(state, t, tr, Some(customer)).await;
        }
        fired += new.len() as u64;
        if !new.is_empty() {
            state.outbox_wake.notify_one();
        }
        after = Some(last);
        if !full {
            break;
        }
    }
    metrics::counter!("hc_customers_rescored_total").increment(customers);
    Ok(RescoreReport {
        customers,
        scored_churn,
        triggers_fired: fired,
        fit_seconds,
        score_seconds: scoring.elapsed().as_secs_f64(),
        model: model_summary(&model),
    })
}

/// Rescoring every tenant every `behavior.rescore_every_secs` (the first after one period).
pub fn spawn_rescorer(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.behavior.rescore_every_secs.max(1));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            let tenants = match state.platform.list_tenants().await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "rescoring: cannot list tenants");
                    continue;
                }
            };
            for t in tenants {
                match rescore(&state, &t.id, true).await {
                    Ok(r) => tracing::info!(tenant = %t.id, customers = r.customers,
                        fired = r.triggers_fired, "customers rescored"),
                    Err(e) => {
                        tracing::warn!(tenant = %t.id, error = %e.message, "rescoring failed")
                    }
                }
            }
        }
    });
}

/// Whether an ended session left a cart behind: something was added, the
/// cart holds value and nothing was bought.
fn abandoned(s: &hc_domain::Session) -> bool {
    let count = |k: EventType| s.counts.get(&k).copied().unwrap_or(0);
    count(EventType::AddToCart) > 0
        && count(EventType::Purchase) == 0
        && s.revenue.cents() == 0
        && s.cart_value.cents() > 0
}

/// Sessions examined per trigger per sweep.
const SWEEP_LIMIT: u32 = 1_000;

/// Checks the sessions that ended since each `cart_abandoned` trigger last
/// looked; returns how many webhooks were queued.
pub async fn sweep_triggers(state: &AppState) -> ApiResult<u64> {
    let now = hc_domain::now_ms();
    let ended_by = now - hc_domain::SESSION_GAP_MS;
    let mut fired = 0;
    for st in state.platform.all_triggers().await? {
        let TriggerCondition::CartAbandoned {
            min_cart_value,
            min_intent,
        } = &st.trigger.condition
        else {
            continue;
        };
        if st.cursor_ms > ended_by {
            continue;
        }
        let t = &st.tenant_id;
        let sessions = state
            .platform
            .sessions_ended_between(t, st.cursor_ms, ended_by, SWEEP_LIMIT)
            .await?;
        let cursor = if sessions.len() == SWEEP_LIMIT as usize {
            sessions.last().map_or(ended_by, |s| s.last_event_at_ms)
        } else {
            ended_by
        };
        let mut firings = Vec::new();
        // Per firing: the session's customer, if known (a proactive message).
        let mut customers: Vec<Option<String>> = Vec::new();
        for s in &sessions {
            if !abandoned(s) || min_cart_value.is_some_and(|m| s.cart_value < m) {
                continue;
            }
            let intent = match (&state.intent, min_intent) {
                (Some(m), _) => {
                    let returning = match &s.customer_id {
                        Some(c) => {
                            state
                                .platform
                                .customer_sessions_before(t, c, s.started_at_ms)
                                .await?
                                > 0
                        }
                        None => false,
                    };
                    Some(m.score(&hc_behavior::live::session_features(s, returning)))
                }
                // A threshold on intent without a model cannot be checked: never fire on a guess.
                (None, Some(_)) => continue,
                (None, None) => None,
            };
            if let (Some(min), Some(p)) = (min_intent, intent)
                && p < *min
            {
                continue;
            }
            customers.push(s.customer_id.as_ref().map(|c| c.to_string()));
            firings.push(Firing {
                trigger_id: st.trigger.id.clone(),
                subject: format!("session:{}", s.id),
                delivery: webhook(
                    t,
                    &st.trigger,
                    "cart_abandoned",
                    json!({
                        "event": "cart_abandoned", "trigger_id": st.trigger.id,
                        "trigger_name": st.trigger.name, "tenant": t, "session_id": s.id,
                        "customer_id": s.customer_id, "cart_value": s.cart_value,
                        "intent": intent, "last_event_at_ms": s.last_event_at_ms, "at_ms": now,
                    }),
                ),
            });
        }
        let new = state
            .platform
            .fire(t, &firings, Some((&st.trigger.id, cursor)))
            .await?;
        for &i in &new {
            crate::proactive::on_firing(state, t, &st.trigger, customers[i].as_ref()).await;
        }
        fired += new.len() as u64;
    }
    if fired > 0 {
        state.outbox_wake.notify_one();
        metrics::counter!("hc_triggers_fired_total", "kind" => "cart_abandoned").increment(fired);
    }
    Ok(fired)
}

/// Runs [`sweep_triggers`] every `behavior.trigger_sweep_secs`.
pub fn spawn_trigger_sweeper(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.behavior.trigger_sweep_secs.max(1));
        loop {
            if let Err(e) = sweep_triggers(&state).await {
                tracing::warn!(error = %e.message, "trigger sweep failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    });
}

/// A trigger webhook as the outbox stores it.
#[derive(Debug, Deserialize)]
pub struct WebhookPayload {
    pub url: String,
    pub trigger_id: String,
    pub event: String,
    pub body: Value,
}
