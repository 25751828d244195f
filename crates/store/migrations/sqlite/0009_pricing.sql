-- Dynamic pricing (issue 5): per-item rules and prices, price history with
-- reasons, the approvals queue, the competitor feed and each tenant's learned
-- demand model. Money in integer cents; rules and reasons as JSON documents.
create table pricing_items (
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    rules text not null,
    base_cents integer not null,
    current_cents integer not null,
    -- The price when the current UTC day (`open_day`, days since the epoch) began.
    day_open_cents integer not null,
    open_day integer not null,
    updated_at_ms integer not null,
    primary key (tenant_id, item_id)
);

create table price_history (
    id integer primary key autoincrement,
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    from_cents integer,
    to_cents integer not null,
    status text not null,
    reason text not null,
    at_ms integer not null
);
create index price_history_item on price_history (tenant_id, item_id, id);

create table price_approvals (
    id integer primary key autoincrement,
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    from_cents integer,
    to_cents integer not null,
    reason text not null,
    status text not null,
    created_at_ms integer not null,
    decided_at_ms integer
);
create index price_approvals_status on price_approvals (tenant_id, status, id);

create table competitor_prices (
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    competitor text not null,
    price_cents integer not null,
    observed_at integer not null,
    primary key (tenant_id, item_id, competitor, observed_at)
);

create table pricing_models (
    tenant_id text primary key references tenants (id) on delete cascade,
    doc text not null,
    updated_at_ms integer not null
);
