-- HyperCommerce initial schema (PostgreSQL). Aggregates are stored as JSON
-- documents in the τ-retail layout; the columns beside them exist for lookups,
-- filters and tenant scoping.
create table tenants (
    id text primary key,
    name text not null,
    created_at_ms bigint not null
);

create table products (
    tenant_id text not null references tenants (id) on delete cascade,
    product_id text not null,
    name text not null,
    name_folded text not null,
    doc text not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, product_id)
);

create table product_items (
    tenant_id text not null,
    item_id text not null,
    product_id text not null,
    primary key (tenant_id, item_id),
    foreign key (tenant_id, product_id) references products (tenant_id, product_id) on delete cascade
);

create table customers (
    tenant_id text not null references tenants (id) on delete cascade,
    user_id text not null,
    email_folded text not null,
    first_folded text not null,
    last_folded text not null,
    name_folded text not null,
    zip text not null,
    doc text not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, user_id)
);
create index customers_email on customers (tenant_id, email_folded);
create index customers_name_zip on customers (tenant_id, last_folded, first_folded, zip);

create table orders (
    tenant_id text not null references tenants (id) on delete cascade,
    order_id text not null,
    user_id text not null,
    status text not null,
    doc text not null,
    created_at_ms bigint not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, order_id)
);
create index orders_user on orders (tenant_id, user_id);
create index orders_status on orders (tenant_id, status);

create table api_keys (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    key_hash text not null unique,
    prefix text not null,
    role text not null,
    label text not null,
    rate_limit_per_sec bigint,
    created_at_ms bigint not null,
    revoked_at_ms bigint
);
create index api_keys_tenant on api_keys (tenant_id);

create table audit_log (
    id bigserial primary key,
    tenant_id text not null,
    actor text not null,
    action text not null,
    target text not null,
    at_ms bigint not null,
    detail text not null
);
create index audit_log_tenant on audit_log (tenant_id, id);

create table idempotency_keys (
    tenant_id text not null,
    key_id text not null,
    idem_key text not null,
    request_hash text not null,
    status_code bigint,
    response text,
    created_at_ms bigint not null,
    primary key (tenant_id, key_id, idem_key)
);
