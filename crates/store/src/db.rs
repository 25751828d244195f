//! Connecting, configuring and migrating the database.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use tracing::info;

use crate::error::{Error, Result, map};

/// Which database a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite's `synchronous` pragma in WAL mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// Commit waits for the WAL to reach the OS: survives a crash of the
    /// process (kill -9), not a power cut. The default.
    #[default]
    Normal,
    /// Commit fsyncs the WAL: survives a power cut; about 3 ms per commit on
    /// this class of disk.
    Full,
}

/// Storage settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Connections for reads (and, on PostgreSQL, writes). Default: one per
    /// core on SQLite (more only adds thread hand-offs), 16 on PostgreSQL.
    pub max_connections: Option<u32>,
    /// SQLite durability mode.
    pub sqlite_synchronous: Synchronous,
    /// How long to wait for a connection or a SQLite write lock.
    pub acquire_timeout_ms: u64,
    /// Serve SQLite primary-key reads inline on the calling thread (see `inline.rs`).
    pub inline_reads: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            max_connections: None,
            sqlite_synchronous: Synchronous::Normal,
            acquire_timeout_ms: 5_000,
            inline_reads: true,
        }
    }
}

/// The SQL store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) read: AnyPool,
    /// On SQLite a single connection, so writers queue in-process instead of
    /// spinning on the database lock; on PostgreSQL the same pool as `read`.
    pub(crate) write: AnyPool,
    pub(crate) backend: Backend,
    /// Inline point reads on a SQLite file (see [`crate::inline`]).
    pub(crate) inline: Option<std::sync::Arc<crate::inline::InlineReader>>,
    /// The SQLite group-commit writer for conversation turns.
    pub(crate) turns: Option<tokio::sync::mpsc::Sender<crate::turn_writer::TurnJob>>,
    /// Seals tenant secrets at rest (see [`crate::secrets`]); `None` stores them as given.
    pub(crate) secrets: Option<std::sync::Arc<crate::secrets::SecretsKey>>,
    /// The SQLite group-commit writer for event batches.
    pub(crate) events: Option<tokio::sync::mpsc::Sender<crate::events::writer::EventJob>>,
}

impl SqlStore {
    /// Seals tenant secrets (channel credentials) with `key` from now on;
    /// stored sealed values open only with the same key.
    pub fn with_secrets_key(mut self, key: crate::secrets::SecretsKey) -> Self {
        self.secrets = Some(std::sync::Arc::new(key));
        self
    }

    /// Connects to `url` (`sqlite://…` or `postgres://…`). Does not migrate.
    pub async fn connect(url: &str, config: &StoreConfig) -> Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::Unavailable(
                "database URL must start with sqlite: or postgres:".into(),
            ));
        };
        let timeout = Duration::from_millis(config.acquire_timeout_ms);
        match backend {
            Backend::Sqlite => {
                let sync = config.sqlite_synchronous;
                let pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(timeout)
                        .after_connect(move |conn, _| {
                            Box::pin(async move {
                                conn.execute("pragma journal_mode = wal").await?;
                                conn.execute("pragma foreign_keys = on").await?;
                                conn.execute("pragma busy_timeout = 5000").await?;
                                conn.execute(match sync {
                                    Synchronous::Normal => "pragma synchronous = normal",
                                    Synchronous::Full => "pragma synchronous = full",
                                })
                                .await?;
                                Ok(())
                            })
                        })
                };
                let write = pool(1).connect(url).await.map_err(map)?;
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
                let read = pool(config.max_connections.unwrap_or(cores).max(1))
                    .connect(url)
                    .await
                    .map_err(map)?;
                let inline = crate::inline::InlineReader::for_url(url, 2 * cores as usize)
                    .filter(|_| config.inline_reads)
                    .map(std::sync::Arc::new);
                // A database file gets the group-commit turn writer; an
                // in-memory one writes turns through the pool.
                let (turns, events) = match crate::inline::sqlite_file(url) {
                    Some(path) => (
                        Some(crate::turn_writer::spawn(path.clone(), sync, timeout)?),
                        Some(crate::events::writer::spawn(path, sync, timeout)?),
                    ),
                    None => (None, None),
                };
                Ok(Self {
                    read,
                    write,
                    backend,
                    inline,
                    turns,
                    secrets: None,
                    events,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(config.max_connections.unwrap_or(16).max(2))
                    .acquire_timeout(timeout)
                    .connect(url)
                    .await
                    .map_err(map)?;
                Ok(Self {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    inline: None,
                    turns: None,
                    secrets: None,
                    events: None,
                })
            }
        }
    }

    /// Connects and applies pending migrations.
    pub async fn open(url: &str, config: &StoreConfig) -> Result<Self> {
        let store = Self::connect(url, config).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations (append-only history, one set per backend).
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&self.write)
            .await
            .map_err(|e| Error::Unavailable(format!("migration failed: {e}")))?;
        info!(backend = ?self.backend, "database migrated");
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1")
            .execute(&self.read)
            .await
            .map_err(map)?;
        Ok(())
    }

    /// Closes the pools, waiting for connections to return.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Begins a write transaction: `begin immediate` on SQLite takes the write
    /// lock up front, so a read-then-write never fails to upgrade.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("begin immediate").await.map_err(map),
            Backend::Postgres => self.write.begin().await.map_err(map),
        }
    }

    /// Row-lock suffix for reads inside a write transaction.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " for update",
        }
    }
}
