-- Knowledge-base articles (document + lookup columns). The rows are the
-- source of truth; the search index is rebuilt from them. Slugs sort
-- bytewise (as on SQLite), so pages come in the same order on both backends.
create table knowledge_articles (
    tenant_id text not null references tenants (id) on delete cascade,
    slug text collate "C" not null,
    id text not null,
    doc text not null,
    updated_at_ms bigint not null,
    primary key (tenant_id, slug)
);
create unique index knowledge_articles_id on knowledge_articles (tenant_id, id);
