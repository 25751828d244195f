-- Pricing (issue 5), continued. Units sold against an item's `stock` rule
-- since that rule was set (`stock_since_ms`), for the inventory-aware policies.
alter table pricing_items add column sold_units bigint not null default 0;
alter table pricing_items add column stock_since_ms bigint not null default 0;

-- Category-level rules: every catalog item of the category without rules of
-- its own is priced by them (its `pricing_items.rules` is the JSON `null`).
create table pricing_categories (
    tenant_id text not null references tenants (id) on delete cascade,
    category text not null,
    rules text not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, category)
);

-- The learned demand model, one row per item and per category (replacing the
-- one document per tenant of `pricing_models`, which concurrent learners could
-- overwrite): a learning batch locks only its items' and categories' rows.
-- `doc` is owned by `hc-pricing`; '' until the first observation.
create table pricing_demand_items (
    tenant_id text not null references tenants (id) on delete cascade,
    item_id text not null,
    category text,
    doc text not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, item_id)
);

create table pricing_demand_categories (
    tenant_id text not null references tenants (id) on delete cascade,
    category text not null,
    doc text not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, category)
);
