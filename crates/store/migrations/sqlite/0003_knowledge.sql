-- Knowledge-base articles (document + lookup columns). The rows are the
-- source of truth; the search index is rebuilt from them.
create table knowledge_articles (
    tenant_id text not null references tenants (id) on delete cascade,
    slug text not null,
    id text not null,
    doc text not null,
    updated_at_ms integer not null,
    primary key (tenant_id, slug)
);
create unique index knowledge_articles_id on knowledge_articles (tenant_id, id);
