-- Long-term customer memory: facts learned from orders and conversations.
-- slot is the folded subject for kinds that keep one fact per subject, and a
-- per-fact key for issues (which keep several).
create table customer_facts (
    tenant_id text not null references tenants (id) on delete cascade,
    user_id text not null,
    kind text not null,
    slot text not null,
    subject text not null,
    value text not null,
    source text not null,
    learned_at_ms integer not null,
    primary key (tenant_id, user_id, kind, slot)
);
