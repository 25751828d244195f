//! Layered configuration, loaded once: compiled-in defaults, then the config
//! file (`--config`, default `<data-dir>/hypercommerce.toml` if present), then
//! `HC_…` environment variables (`__` separates sections, e.g.
//! `HC_SERVER__RATE_LIMIT_PER_SEC`), then command-line flags. Unknown keys in
//! the file are errors.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use hc_commerce::RetailPolicy;
use hc_server::ServerConfig;
use hc_store::StoreConfig;
use serde::{Deserialize, Serialize};

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// All settings of the binary; each crate owns its section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the embedded database and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: a SQLite file in `data_dir`.
    pub database_url: Option<String>,
    pub log_format: LogFormat,
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub retail: RetailPolicy,
    /// The agent: voice (`brand`, `tone`), `brain` (offline, llm, hybrid) and `llm` provider.
    pub agent: hc_agent::AgentConfig,
    /// The knowledge base: `max_articles` per tenant.
    pub knowledge: hc_knowledge::KnowledgeConfig,
    /// The transparency log (`[ledger]`): `enabled`, `origin`, `dir`, `keys_dir`.
    pub ledger: hc_ledger::LedgerConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./hypercommerce-data"),
            database_url: None,
            log_format: LogFormat::Text,
            server: ServerConfig::default(),
            store: StoreConfig::default(),
            retail: RetailPolicy::default(),
            agent: hc_agent::AgentConfig::default(),
            knowledge: hc_knowledge::KnowledgeConfig::default(),
            ledger: hc_ledger::LedgerConfig::default(),
        }
    }
}

const TOP_LEVEL_KEYS: [&str; 9] = [
    "agent",
    "data_dir",
    "database_url",
    "log_format",
    "server",
    "store",
    "retail",
    "knowledge",
    "ledger",
];

/// Command-line overrides.
#[derive(Debug, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
}

impl Settings {
    pub fn load(o: &Overrides) -> Result<Self> {
        let data_dir_hint = o
            .data_dir
            .clone()
            .unwrap_or_else(|| Settings::default().data_dir);
        let file = o.config.clone().or_else(|| {
            let p = data_dir_hint.join("hypercommerce.toml");
            p.exists().then_some(p)
        });
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = &file {
            anyhow::ensure!(
                file.exists(),
                "config file {} does not exist",
                file.display()
            );
            figment = figment.merge(Toml::file(file));
        }
        // Only our own keys: other HC_ variables (e.g. HC_TEST_POSTGRES_URL) are not settings.
        let env = Env::prefixed("HC_").split("__").filter(|k| {
            let first = k.as_str().split('.').next().unwrap_or_default();
            TOP_LEVEL_KEYS.contains(&first)
        });
        let mut settings: Settings = figment
            .merge(env)
            .extract()
            .context("invalid configuration")?;
        if let Some(d) = &o.data_dir {
            settings.data_dir = d.clone();
        }
        if let Some(u) = &o.database_url {
            settings.database_url = Some(u.clone());
        }
        if let Some(l) = &o.listen {
            settings.server.listen = l.clone();
        }
        Ok(settings)
    }

    /// The database URL, creating the data directory for the embedded default.
    pub fn database_url(&self) -> Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create data dir {}", self.data_dir.display()))?;
        let dir = std::fs::canonicalize(&self.data_dir)?;
        Ok(sqlite_url(&dir.join("hypercommerce.db")))
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags_override_defaults_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[server]\nrate_limit_per_sec = 7\nlisten = \"127.0.0.1:9999\"\n",
        )
        .unwrap();
        let o = Overrides {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:1".into()),
            ..Default::default()
        };
        let s = Settings::load(&o).unwrap();
        assert_eq!(s.server.rate_limit_per_sec, 7);
        assert_eq!(s.server.listen, "127.0.0.1:1", "flag beats file");
        std::fs::write(&file, "[server]\nrate_limit_per_second = 7\n").unwrap();
        let err = Settings::load(&o).unwrap_err();
        assert!(
            format!("{err:#}").contains("rate_limit_per_second"),
            "{err:#}"
        );
    }

    #[test]
    fn channel_settings_come_from_the_server_section_and_secrets_are_not_written_back() {
        use secrecy::ExposeSecret;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[server.channels]\npublic_base_url = \"https://shop.example\"\n\
             twilio_auth_token = \"tok\"\nvoice_handoff_number = \"+15550001111\"\n",
        )
        .unwrap();
        let o = Overrides {
            config: Some(file.clone()),
            ..Default::default()
        };
        let s = Settings::load(&o).unwrap();
        let ch = &s.server.channels;
        assert_eq!(ch.public_base_url.as_deref(), Some("https://shop.example"));
        assert_eq!(
            ch.twilio_auth_token.as_ref().unwrap().expose_secret(),
            "tok"
        );
        assert_eq!(ch.postmark_api_base, "https://api.postmarkapp.com");
        assert!(ch.postmark_server_token.is_none());
        let dumped = serde_json::to_string(&s).unwrap();
        assert!(!dumped.contains("\"tok\""), "{dumped}");
        assert!(
            !format!("{ch:?}").contains("\"tok\""),
            "Debug redacts secrets"
        );
        std::fs::write(&file, "[server.channels]\ntwilio_token = \"x\"\n").unwrap();
        let err = Settings::load(&o).unwrap_err();
        assert!(format!("{err:#}").contains("twilio_token"), "{err:#}");
    }
}
