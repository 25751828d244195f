-- Per-tenant channels, durable outbound delivery and the knowledge-base revision.
--
-- channel_addresses: the phone numbers and email addresses a tenant's own
-- Twilio / Postmark settings receive on, kept in step with tenants.settings
-- in the same transaction; an address belongs to at most one tenant, so an
-- inbound webhook on the shared path finds its tenant by the address called.
create table channel_addresses (
    address text primary key,
    tenant_id text not null references tenants (id) on delete cascade
);
create index channel_addresses_tenant on channel_addresses (tenant_id);

-- Where replies to a channel conversation go (the customer's number or
-- address, the merchant's, the last email's subject and threading headers),
-- as a JSON document updated by each inbound message.
alter table conversations add column contact text;

-- Outbound SMS and email waiting to be delivered, delivered or given up on.
-- Claimed by pushing next_attempt_at_ms past a lease, so a sender that dies
-- mid-delivery leaves the row due again after the lease.
create table outbox (
    id bigserial primary key,
    tenant_id text not null,
    conversation_id text,
    kind text not null,
    payload text not null,
    status text not null,
    attempts bigint not null default 0,
    next_attempt_at_ms bigint not null,
    last_error text,
    provider_id text,
    created_at_ms bigint not null,
    updated_at_ms bigint not null
);
create index outbox_due on outbox (status, next_attempt_at_ms);
create index outbox_tenant on outbox (tenant_id, status, id);

-- The revision of each tenant's knowledge-base articles, incremented in the
-- transaction of every article write: a process whose in-memory search index
-- was built at an older revision rebuilds it.
alter table tenants add column knowledge_revision bigint not null default 0;
