-- Dynamic pricing (issue 5): per-item rules and prices, price history with
-- reasons, the approvals queue, the competitor feed and each tenant's learned
-- demand model. Money in bigint cents; rules and reasons as JSON documents.
create table pricing_items (
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    rules text not null,
    base_cents bigint not null,
    current_cents bigint not null,
    -- The price when the current UTC day (`open_day`, days since the epoch) began.
    day_open_cents bigint not null,
    open_day bigint not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, item_id)
);

create table price_history (
    id bigserial primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    from_cents bigint,
    to_cents bigint not null,
    status text not null,
    reason text not null,
    at_ms bigint not null
);
create index price_history_item on price_history (tenant_id, item_id, id);

create table price_approvals (
    id bigserial primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    from_cents bigint,
    to_cents bigint not null,
    reason text not null,
    status text not null,
    created_at_ms bigint not null,
    decided_at_ms bigint
);
create index price_approvals_status on price_approvals (tenant_id, status, id);

create table competitor_prices (
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    competitor text not null,
    price_cents bigint not null,
    observed_at bigint not null,
    primary key (tenant_id, item_id, competitor, observed_at)
);

create table pricing_models (
    tenant_id text primary key references tenants (id) on delete cascade,
    doc text not null,
    updated_at_ms bigint not null
);
