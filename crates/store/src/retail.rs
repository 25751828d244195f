//! The retail ports of `hc-commerce` over SQL: catalog, customers, orders and
//! write transactions.

use async_trait::async_trait;
use hc_commerce::ports::{
    CatalogStore, CustomerFilter, CustomerStore, OrderFilter, OrderStore, Page, PageRequest,
    RetailTx, UnitOfWork,
};
use hc_commerce::text::fold;
use hc_domain::{
    AuditRecord, Customer, ItemId, Order, OrderId, Product, ProductId, TenantId, UserId, now_ms,
};
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Executor, Row, Transaction};
use tracing::instrument;

use crate::db::SqlStore;
use crate::error::{Result, corrupt, map};

pub(crate) fn decode<T: DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(corrupt)
}

fn docs<T: DeserializeOwned>(rows: &[AnyRow]) -> Result<Vec<T>> {
    rows.iter()
        .map(|r| decode(&r.try_get::<String, _>("doc").map_err(map)?))
        .collect()
}

fn like_pattern(needle: &str) -> String {
    let escaped = fold(needle)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Builds a page from up to `limit + 1` rows; `id` extracts the cursor.
fn page_of<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(id)
    } else {
        None
    };
    Page { items, next_cursor }
}

async fn fetch_doc<'c, E>(
    ex: E,
    sql: &'static str,
    t: &TenantId,
    id: &str,
) -> Result<Option<String>>
where
    E: Executor<'c, Database = Any>,
{
    let row = sqlx::query(sql)
        .bind(t.as_str())
        .bind(id)
        .fetch_optional(ex)
        .await
        .map_err(map)?;
    row.map(|r| r.try_get::<String, _>(0).map_err(map))
        .transpose()
}

const PRODUCT_DOC: &str = "select doc from products where tenant_id = $1 and product_id = $2";
const PRODUCT_OF_ITEM: &str = "select p.doc from product_items i join products p \
     on p.tenant_id = i.tenant_id and p.product_id = i.product_id \
     where i.tenant_id = $1 and i.item_id = $2";
const CUSTOMER_DOC: &str = "select doc from customers where tenant_id = $1 and user_id = $2";
const ORDER_DOC: &str = "select doc from orders where tenant_id = $1 and order_id = $2";

impl SqlStore {
    /// A primary-key document read outside any transaction: inline on SQLite
    /// files, through the pool otherwise.
    pub(crate) async fn point_read(
        &self,
        sql: &'static str,
        t: &TenantId,
        id: &str,
    ) -> Result<Option<String>> {
        match &self.inline {
            Some(reader) => reader.text(sql, t.as_str(), id),
            None => fetch_doc(&self.read, sql, t, id).await,
        }
    }
}

#[async_trait]
impl CatalogStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, product = %id))]
    async fn product(&self, t: &TenantId, id: &ProductId) -> Result<Option<Product>> {
        self.point_read(PRODUCT_DOC, t, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    #[instrument(level = "debug", skip_all, fields(tenant = %t, item = %item))]
    async fn product_of_item(&self, t: &TenantId, item: &ItemId) -> Result<Option<Product>> {
        self.point_read(PRODUCT_OF_ITEM, t, item.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn product_names(&self, t: &TenantId) -> Result<Vec<(String, ProductId)>> {
        let rows = sqlx::query(
            "select name, product_id from products where tenant_id = $1 order by name, product_id",
        )
        .bind(t.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get(0).map_err(map)?;
                let id: String = r.try_get(1).map_err(map)?;
                Ok((
                    name,
                    ProductId::parse(id).map_err(|e| crate::Error::Corrupt(e.to_string()))?,
                ))
            })
            .collect()
    }

    async fn list_products(
        &self,
        t: &TenantId,
        query: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Product>> {
        let after = page.after.clone().unwrap_or_default();
        let fetch = i64::from(page.limit) + 1;
        let rows = match query.filter(|q| !q.trim().is_empty()) {
            Some(q) => sqlx::query(
                "select doc from products where tenant_id = $1 and product_id > $2 \
                 and name_folded like $3 escape '\\' order by product_id limit $4",
            )
            .bind(t.as_str())
            .bind(after)
            .bind(like_pattern(q))
            .bind(fetch),
            None => sqlx::query(
                "select doc from products where tenant_id = $1 and product_id > $2 \
                 order by product_id limit $3",
            )
            .bind(t.as_str())
            .bind(after)
            .bind(fetch),
        }
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        Ok(page_of(docs(&rows)?, page.limit, |p: &Product| {
            p.product_id.to_string()
        }))
    }
}

#[async_trait]
impl CustomerStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, user = %id))]
    async fn customer(&self, t: &TenantId, id: &UserId) -> Result<Option<Customer>> {
        self.point_read(CUSTOMER_DOC, t, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn find_by_email(&self, t: &TenantId, email: &str) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "select user_id from customers where tenant_id = $1 and email_folded = $2 \
             order by user_id limit 1",
        )
        .bind(t.as_str())
        .bind(fold(email))
        .fetch_optional(&self.read)
        .await
        .map_err(map)?;
        user_id_of(row)
    }

    async fn find_by_name_zip(
        &self,
        t: &TenantId,
        first_name: &str,
        last_name: &str,
        zip: &str,
    ) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "select user_id from customers where tenant_id = $1 and last_folded = $2 \
             and first_folded = $3 and zip = $4 order by user_id limit 1",
        )
        .bind(t.as_str())
        .bind(fold(last_name))
        .bind(fold(first_name))
        .bind(zip)
        .fetch_optional(&self.read)
        .await
        .map_err(map)?;
        user_id_of(row)
    }

    async fn list_customers(
        &self,
        t: &TenantId,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<Customer>> {
        let after = page.after.clone().unwrap_or_default();
        let email = filter.email.as_deref().map(fold);
        let name = filter.name.as_deref().map(like_pattern);
        // Unused filters bind a value that matches everything, keeping one statement.
        let rows = sqlx::query(
            "select doc from customers where tenant_id = $1 and user_id > $2 \
             and ($3 = '' or email_folded = $3) and name_folded like $4 escape '\\' \
             order by user_id limit $5",
        )
        .bind(t.as_str())
        .bind(after)
        .bind(email.unwrap_or_default())
        .bind(name.unwrap_or_else(|| "%".into()))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        Ok(page_of(docs(&rows)?, page.limit, |c: &Customer| {
            c.user_id.to_string()
        }))
    }
}

fn user_id_of(row: Option<AnyRow>) -> Result<Option<UserId>> {
    row.map(|r| {
        let id: String = r.try_get(0).map_err(map)?;
        UserId::parse(id).map_err(|e| crate::Error::Corrupt(e.to_string()))
    })
    .transpose()
}

#[async_trait]
impl OrderStore for SqlStore {
    #[instrument(level = "debug", skip_all, fields(tenant = %t, order = %id))]
    async fn order(&self, t: &TenantId, id: &OrderId) -> Result<Option<Order>> {
        self.point_read(ORDER_DOC, t, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn list_orders(
        &self,
        t: &TenantId,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<Order>> {
        let rows = sqlx::query(
            "select doc from orders where tenant_id = $1 and order_id > $2 \
             and ($3 = '' or user_id = $3) and ($4 = '' or status = $4) \
             order by order_id limit $5",
        )
        .bind(t.as_str())
        .bind(page.after.clone().unwrap_or_default())
        .bind(
            filter
                .user_id
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
        )
        .bind(filter.status.map(|s| s.as_str()).unwrap_or_default())
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.read)
        .await
        .map_err(map)?;
        Ok(page_of(docs(&rows)?, page.limit, |o: &Order| {
            o.order_id.to_string()
        }))
    }
}

/// A write transaction for one tenant.
pub(crate) struct SqlTx {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) tenant: TenantId,
    pub(crate) for_update: &'static str,
}

impl SqlTx {
    async fn locked_doc(&mut self, base: &'static str, id: &str) -> Result<Option<String>> {
        let sql = AssertSqlSafe(format!("{base}{}", self.for_update));
        let row = sqlx::query(sql)
            .bind(self.tenant.as_str())
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(map)?;
        row.map(|r| r.try_get::<String, _>(0).map_err(map))
            .transpose()
    }
}

pub(crate) fn to_doc<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(corrupt)
}

pub(crate) async fn put_order<'c, E>(ex: E, t: &TenantId, order: &Order) -> Result<()>
where
    E: Executor<'c, Database = Any>,
{
    let now = now_ms();
    sqlx::query(
        "insert into orders (tenant_id, order_id, user_id, status, doc, created_at_ms, updated_at_ms) \
         values ($1, $2, $3, $4, $5, $6, $7) \
         on conflict (tenant_id, order_id) do update set user_id = excluded.user_id, \
         status = excluded.status, doc = excluded.doc, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(t.as_str())
    .bind(order.order_id.as_str())
    .bind(order.user_id.as_str())
    .bind(order.status.as_str())
    .bind(to_doc(order)?)
    .bind(order.created_at_ms.unwrap_or(now))
    .bind(now)
    .execute(ex)
    .await
    .map_err(map)?;
    Ok(())
}

pub(crate) async fn put_customer<'c, E>(ex: E, t: &TenantId, c: &Customer) -> Result<()>
where
    E: Executor<'c, Database = Any>,
{
    let (first, last) = (fold(&c.name.first_name), fold(&c.name.last_name));
    sqlx::query(
        "insert into customers (tenant_id, user_id, email_folded, first_folded, last_folded, \
         name_folded, zip, doc, updated_at_ms) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (tenant_id, user_id) do update set email_folded = excluded.email_folded, \
         first_folded = excluded.first_folded, last_folded = excluded.last_folded, \
         name_folded = excluded.name_folded, zip = excluded.zip, doc = excluded.doc, \
         updated_at_ms = excluded.updated_at_ms",
    )
    .bind(t.as_str())
    .bind(c.user_id.as_str())
    .bind(fold(&c.email))
    .bind(first.clone())
    .bind(last.clone())
    .bind(format!("{first} {last}"))
    .bind(c.address.zip.clone())
    .bind(to_doc(c)?)
    .bind(now_ms())
    .execute(ex)
    .await
    .map_err(map)?;
    Ok(())
}

/// Writes a product row and re-indexes its item ids.
pub(crate) async fn put_product(
    conn: &mut sqlx::AnyConnection,
    t: &TenantId,
    p: &Product,
) -> Result<()> {
    sqlx::query(
        "insert into products (tenant_id, product_id, name, name_folded, doc, updated_at_ms) \
         values ($1, $2, $3, $4, $5, $6) on conflict (tenant_id, product_id) do update set \
         name = excluded.name, name_folded = excluded.name_folded, doc = excluded.doc, \
         updated_at_ms = excluded.updated_at_ms",
    )
    .bind(t.as_str())
    .bind(p.product_id.as_str())
    .bind(p.name.clone())
    .bind(fold(&p.name))
    .bind(to_doc(p)?)
    .bind(now_ms())
    .execute(&mut *conn)
    .await
    .map_err(map)?;
    sqlx::query("delete from product_items where tenant_id = $1 and product_id = $2")
        .bind(t.as_str())
        .bind(p.product_id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    for item in p.variants.keys() {
        sqlx::query(
            "insert into product_items (tenant_id, item_id, product_id) values ($1, $2, $3)",
        )
        .bind(t.as_str())
        .bind(item.as_str())
        .bind(p.product_id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map)?;
    }
    Ok(())
}

pub(crate) async fn insert_audit<'c, E>(ex: E, r: &AuditRecord) -> Result<()>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query(
        "insert into audit_log (tenant_id, actor, action, target, at_ms, detail) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.tenant_id.as_str())
    .bind(r.actor.clone())
    .bind(r.action.clone())
    .bind(r.target.clone())
    .bind(r.at_ms)
    .bind(r.detail.to_string())
    .execute(ex)
    .await
    .map_err(map)?;
    Ok(())
}

#[async_trait]
impl RetailTx for SqlTx {
    async fn order(&mut self, id: &OrderId) -> Result<Option<Order>> {
        self.locked_doc(ORDER_DOC, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn customer(&mut self, id: &UserId) -> Result<Option<Customer>> {
        self.locked_doc(CUSTOMER_DOC, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn product(&mut self, id: &ProductId) -> Result<Option<Product>> {
        fetch_doc(&mut *self.tx, PRODUCT_DOC, &self.tenant, id.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn product_of_item(&mut self, item: &ItemId) -> Result<Option<Product>> {
        fetch_doc(&mut *self.tx, PRODUCT_OF_ITEM, &self.tenant, item.as_str())
            .await?
            .map(|d| decode(&d))
            .transpose()
    }

    async fn put_order(&mut self, order: &Order) -> Result<()> {
        put_order(&mut *self.tx, &self.tenant, order).await
    }

    async fn put_customer(&mut self, customer: &Customer) -> Result<()> {
        put_customer(&mut *self.tx, &self.tenant, customer).await
    }

    async fn put_product(&mut self, product: &Product) -> Result<()> {
        put_product(&mut self.tx, &self.tenant, product).await
    }

    async fn audit(&mut self, record: &AuditRecord) -> Result<()> {
        if record.tenant_id != self.tenant {
            return Err(crate::Error::Conflict(
                "audit record belongs to another tenant".into(),
            ));
        }
        insert_audit(&mut *self.tx, record).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(map)
    }
}

#[async_trait]
impl UnitOfWork for SqlStore {
    async fn begin(&self, t: &TenantId) -> Result<Box<dyn RetailTx>> {
        Ok(Box::new(SqlTx {
            tx: self.begin_write().await?,
            tenant: t.clone(),
            for_update: self.for_update(),
        }))
    }
}
