//! `hypercommerce`: the one binary a retailer runs.

mod bench;
mod bench_behavior;
mod bench_dashboard;
mod bench_events;
mod bench_llm;
mod bench_pricing;
mod commands;
mod eval;
mod eval_agent;
mod eval_behavior;
mod eval_pricing;
mod ledger;
mod settings;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::settings::{LogFormat, Overrides, Settings};

/// mimalloc instead of the system allocator: a chat turn allocates and frees
/// many small strings and JSON values across threads, where glibc malloc spent
/// about a third of the CPU (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hypercommerce",
    version,
    about = "Self-hosted AI commerce engine"
)]
struct Cli {
    /// Config file (TOML); default `<data-dir>/hypercommerce.toml` when it exists.
    #[arg(long, global = true, env = "HC_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the embedded database and local state.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…` (default: SQLite in the data dir).
    #[arg(long, global = true, env = "HC_DATABASE_URL")]
    database_url: Option<String>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, global = true)]
    listen: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        /// Create (once) and serve a demo store as tenant `demo`, and print an admin key.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import data.
    #[command(subcommand)]
    Import(Format),
    /// Export data.
    #[command(subcommand)]
    Export(Format),
    /// Tenants and API keys.
    #[command(subcommand)]
    Admin(Admin),
    /// Load-test the HTTP API over loopback and print JSON figures.
    Bench(bench::BenchArgs),
    /// Offline evaluations that print JSON.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// The transparency log: signing keys, offline verification and audit.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// The behavior event log.
    #[command(subcommand)]
    Events(Events),
    /// Customer scores.
    #[command(subcommand)]
    Customers(Customers),
}

#[derive(Subcommand)]
enum Customers {
    /// Refit a tenant's customer models and score every customer (stored in
    /// the database; churn-risk triggers fire). Prints a JSON report.
    Rescore {
        #[arg(long)]
        tenant: String,
        /// Reuse a stored model younger than `server.behavior.model_max_age_secs` instead of refitting.
        #[arg(long)]
        no_refit: bool,
    },
}

#[derive(Subcommand)]
enum Events {
    /// Print a tenant's event log in order as NDJSON (`{seq, session, received_at_ms, event}`).
    Replay {
        #[arg(long)]
        tenant: String,
        /// Start after this sequence number (a previous replay's last `seq`).
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Stop after this many events (default: all).
        #[arg(long)]
        limit: Option<u64>,
    },
}

#[derive(Subcommand)]
enum Format {
    /// The τ-retail `db.json` layout.
    TauRetail {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Subcommand)]
#[allow(clippy::enum_variant_names)]
enum Admin {
    /// Create a tenant (merchant). NAME is its id: lowercase letters, digits, '-' or '_'.
    CreateTenant {
        name: String,
        /// Display name (default: NAME).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Create an API key and print only the key.
    CreateKey {
        #[arg(long)]
        tenant: String,
        /// owner, admin, manager, agent, viewer or tracker (posts events only: the shop's public key).
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Requests per second for this key (0 = unlimited).
        #[arg(long)]
        rate_limit: Option<u32>,
    },
    /// Create a dashboard operator. The password is read from standard input
    /// when it is piped; otherwise one is generated and printed once.
    CreateUser {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// owner, admin, manager, agent or viewer.
        #[arg(long)]
        role: String,
    },
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HC_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> Result<()> {
    hc_server::install_tls_provider();
    let cli = Cli::parse();
    let overrides = Overrides {
        config: cli.config,
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        listen: cli.listen,
    };
    let settings = Settings::load(&overrides)?;
    init_tracing(settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { demo } => commands::serve(&settings, demo).await,
            Command::Migrate => commands::migrate(&settings).await,
            Command::Import(Format::TauRetail { file, tenant }) => {
                commands::import_tau(&settings, &file, &tenant).await
            }
            Command::Export(Format::TauRetail { file, tenant }) => {
                commands::export_tau(&settings, &file, &tenant).await
            }
            Command::Admin(Admin::CreateTenant { name, display_name }) => {
                commands::create_tenant(&settings, &name, display_name.as_deref()).await
            }
            Command::Admin(Admin::CreateKey {
                tenant,
                role,
                label,
                rate_limit,
            }) => commands::create_key(&settings, &tenant, &role, &label, rate_limit).await,
            Command::Admin(Admin::CreateUser {
                tenant,
                email,
                role,
            }) => commands::create_user(&settings, &tenant, &email, &role).await,
            Command::Bench(args) => bench::run(&settings, args).await,
            Command::Eval(cmd) => eval::run(cmd).await,
            Command::Ledger(cmd) => ledger::run(&settings, cmd),
            Command::Events(Events::Replay {
                tenant,
                after,
                limit,
            }) => commands::replay_events(&settings, &tenant, after, limit).await,
            Command::Customers(Customers::Rescore { tenant, no_refit }) => {
                commands::rescore(&settings, &tenant, !no_refit).await
            }
        }
    })
}
