-- The operator dashboard (issue 7): operator accounts and their server-side
-- sessions, the conversation rollups the overview reads instead of scanning
-- conversations, private notes and assignments in the escalation inbox, and
-- when each API key was last used.
create table operator_users (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    email text not null,
    password_hash text not null,
    role text not null,
    created_at_ms bigint not null,
    disabled_at_ms bigint,
    unique (tenant_id, email)
);

-- Only the SHA-256 of the session token is stored.
create table operator_sessions (
    token_hash text primary key,
    operator_id text not null references operator_users (id) on delete cascade,
    tenant_id text not null,
    csrf_token text not null,
    created_at_ms bigint not null,
    last_seen_at_ms bigint not null
);
create index operator_sessions_operator on operator_sessions (operator_id);

alter table api_keys add column last_used_at_ms bigint;

create index conversations_updated on conversations (tenant_id, updated_at_ms, id);

-- One row per conversation: what the overview counts, kept current by the rollup.
create table conversation_facts (
    tenant_id text not null,
    conversation_id text not null,
    -- UTC day of creation, days since 1970-01-01.
    day bigint not null,
    channel text not null,
    status text not null,
    customer_id text,
    by_ai bigint not null,
    escalated bigint not null,
    first_response_ms bigint,
    resolution_ms bigint,
    rating bigint,
    intent text,
    escalation_reason text,
    revenue_cents bigint not null,
    orders bigint not null,
    created_at_ms bigint not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, conversation_id)
);
create index conversation_facts_day on conversation_facts (tenant_id, day);
create index conversation_facts_updated on conversation_facts (tenant_id, updated_at_ms);

-- Per tenant, day and channel: sums over conversation_facts.
create table conversation_daily (
    tenant_id text not null,
    day bigint not null,
    channel text not null,
    conversations bigint not null,
    open bigint not null,
    resolved bigint not null,
    resolved_by_ai bigint not null,
    escalated bigint not null,
    abandoned bigint not null,
    first_response_sum_ms bigint not null,
    first_response_n bigint not null,
    resolution_sum_ms bigint not null,
    resolution_n bigint not null,
    rating_sum bigint not null,
    rating_n bigint not null,
    revenue_cents bigint not null,
    orders bigint not null,
    primary key (tenant_id, day, channel)
);

-- Per tenant, day, channel: how many conversations had each intent or escalation reason.
create table conversation_daily_labels (
    tenant_id text not null,
    day bigint not null,
    channel text not null,
    kind text not null,
    label text not null,
    n bigint not null,
    primary key (tenant_id, day, channel, kind, label)
);

-- Conversations updated before this time (less an overlap) are in the rollup.
create table rollup_watermarks (
    tenant_id text primary key,
    updated_before_ms bigint not null
);

create table conversation_notes (
    id bigserial primary key,
    tenant_id text not null,
    conversation_id text not null,
    author text not null,
    text text not null,
    at_ms bigint not null
);
create index conversation_notes_conversation on conversation_notes (tenant_id, conversation_id, id);

create table conversation_assignments (
    tenant_id text not null,
    conversation_id text not null,
    operator_id text not null,
    operator_email text not null,
    at_ms bigint not null,
    primary key (tenant_id, conversation_id)
);
