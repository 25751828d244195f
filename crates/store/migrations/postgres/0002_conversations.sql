-- Conversations (document + lookup columns) and their messages.
create table conversations (
    tenant_id text not null references tenants (id) on delete cascade,
    id text not null,
    status text not null,
    customer_id text,
    version bigint not null,
    doc text not null,
    created_at_ms bigint not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, id)
);
create index conversations_status on conversations (tenant_id, status, updated_at_ms);

create table conversation_messages (
    tenant_id text not null,
    conversation_id text not null,
    seq bigint not null,
    doc text not null,
    at_ms bigint not null,
    primary key (tenant_id, conversation_id, seq),
    foreign key (tenant_id, conversation_id) references conversations (tenant_id, id) on delete cascade
);
