-- Customer scores, the customer models they come from, and triggers
-- (issue #4: per-customer insights, batch rescoring, triggers).
--
-- customer_models: each tenant's fitted customer models (BG/NBD,
-- Gamma-Gamma, churn trees, segments) as a versioned JSON artifact.
create table customer_models (
    tenant_id text primary key references tenants (id) on delete cascade,
    version bigint not null,
    doc text not null,
    fitted_at_ms bigint not null
);

-- customer_scores: the latest batch score of every customer of a tenant.
-- Null means "not known" (cold start), never zero.
create table customer_scores (
    tenant_id text not null references tenants (id) on delete cascade,
    user_id text not null,
    orders bigint not null,
    churn double precision,
    churn_basis text,
    p_alive double precision,
    expected_purchases_90d double precision,
    clv_365d double precision,
    segment text,
    scored_at_ms bigint not null,
    primary key (tenant_id, user_id)
);
create index customer_scores_churn on customer_scores (tenant_id, churn);

-- triggers: merchant rules (doc: condition and webhook); cursor_ms is how
-- far the session sweep has looked (sessions whose last event is older).
create table triggers (
    tenant_id text not null references tenants (id) on delete cascade,
    id text not null,
    doc text not null,
    secret text not null,
    cursor_ms bigint not null,
    created_at_ms bigint not null,
    primary key (tenant_id, id)
);

-- trigger_firings: each (trigger, subject) fires once; the outbox row that
-- carries the webhook is written in the same transaction.
create table trigger_firings (
    tenant_id text not null,
    trigger_id text not null,
    subject text not null,
    delivery_id bigint not null,
    fired_at_ms bigint not null,
    primary key (tenant_id, trigger_id, subject)
);

create index conversations_customer on conversations (tenant_id, customer_id);
create index sessions_last_event on sessions (tenant_id, last_event_at_ms);
create index events_returns on events (tenant_id, customer_id) where type = 'return';
