-- Behavior events, sessions and the quarantine (issue #4, ingestion).
--
-- events: the tenant's append-only event log. seq is the replay cursor
-- (a rowid: events are never deleted, so it only grows);
-- (tenant_id, event_id) deduplicates; doc is the validated event as JSON.
-- session_id is the server-side session the event was counted in.
create table events (
    seq integer primary key,
    tenant_id text not null,
    event_id text not null,
    session_id text not null,
    type text not null,
    ts_ms integer not null,
    customer_id text,
    doc text not null,
    received_at_ms integer not null
);
create unique index events_dedup on events (tenant_id, event_id);
create index events_session on events (tenant_id, session_id);

-- One row per visit: a sender's session id, split after 30 minutes of
-- inactivity (ordinal 1 keeps the sender's id, later ones get '~n').
-- doc holds the counters as JSON.
create table sessions (
    tenant_id text not null,
    id text not null,
    sender_id text not null,
    ordinal integer not null,
    customer_id text,
    started_at_ms integer not null,
    last_event_at_ms integer not null,
    doc text not null,
    primary key (tenant_id, id)
);
create index sessions_sender on sessions (tenant_id, sender_id, ordinal);
create index sessions_customer on sessions (tenant_id, customer_id, last_event_at_ms);

-- Events refused by validation, with the reason (HTTP batches and MQTT messages).
create table event_quarantine (
    id integer primary key autoincrement,
    tenant_id text not null,
    source text not null,
    code text not null,
    reason text not null,
    payload text not null,
    received_at_ms integer not null
);
create index event_quarantine_tenant on event_quarantine (tenant_id, id);
