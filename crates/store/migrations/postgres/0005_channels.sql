-- Inbound channels (SMS, voice, email): a conversation may be tied to the
-- provider's key for the other party (phone number, call id, sender email).
-- At most one conversation that still accepts messages per (tenant, channel,
-- key): concurrent webhooks from the same sender cannot open two.
alter table conversations add column channel text;
alter table conversations add column external_key text;
create unique index conversations_external_active
    on conversations (tenant_id, channel, external_key)
    where external_key is not null and status in ('open', 'escalated');
