-- The dashboard's settings screens (issue 7, continued): each tenant's own
-- LLM provider, its key sealed at rest like the channel secrets (see
-- secrets.rs), and the tenant's outgoing webhook endpoints (their signing
-- secrets sealed too). Deliveries go through the outbox (kind 'webhook').
create table tenant_llm (
    tenant_id text primary key references tenants (id) on delete cascade,
    provider text not null,
    base_url text not null,
    model text not null,
    -- Sealed ('enc:v1:...'); null when no key is set.
    api_key text,
    updated_at_ms bigint not null
);

create table webhook_endpoints (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    url text not null,
    description text not null,
    -- Sealed HMAC signing secret.
    secret text not null,
    created_at_ms bigint not null
);
create index webhook_endpoints_tenant on webhook_endpoints (tenant_id, created_at_ms);

-- The delivery log lists one tenant's webhooks, newest first.
create index outbox_tenant_kind on outbox (tenant_id, kind, id);
