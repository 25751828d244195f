//! The store contract suite: every test runs against SQLite, and against
//! PostgreSQL when `HC_TEST_POSTGRES_URL` is set (`.ci/run` sets it).

mod behavior;
mod conversations;
mod dashboard;
mod events;
mod fixture;
mod knowledge;
mod memory;
mod outbox;
mod platform;
mod pricing;
mod retail;
mod settings;
