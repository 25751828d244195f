//! HTTP API tests against a real server on a loopback port and a fresh
//! database per test (SQLite; PostgreSQL too where a test says so and
//! `HC_TEST_POSTGRES_URL` is set).

mod access;
mod bad_input;
mod behavior;
mod browser;
mod cart;
mod channels;
mod conversations;
mod dashboard;
mod dashboard_screens;
mod dashboard_settings;
mod erasure;
mod events;
mod fakes;
mod helpers;
mod knowledge;
mod ledger;
mod llm;
mod loyalty;
mod loyalty_proofs;
mod memory;
mod oracle;
mod platform;
mod pricing;
mod replay;
mod sensors;
mod settings;
mod tenant_channels;
