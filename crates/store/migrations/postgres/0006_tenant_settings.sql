-- A merchant's agent settings (brand voice, cancel reasons, refunds to gift
-- cards, escalation thresholds) as one JSON document; null = all defaults.
alter table tenants add column settings text;
