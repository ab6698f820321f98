//! The `switchyard` command. Parses arguments, sets up logging and hands over to the library.
//! A user's mistake (a bad flag, a bad configuration, a port in use) ends with one line on
//! stderr and exit status 1 (2 for a bad command line), never a backtrace.

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard::config::LogFormat;
use switchyard::{Application, Config};

/// Delivery allocates and frees small buffers at a high rate on many threads; mimalloc spends a
/// fraction of the time glibc's allocator does on them (measured with `perf`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "switchyard", version, about = "Self-hosted event-hooks engine")]
struct Cli {
    /// TOML configuration file (see switchyard.example.toml).
    #[arg(long, global = true, env = "SWITCHYARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (API and delivery workers).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long, env = "SWITCHYARD_LISTEN")]
        listen: Option<String>,
        /// Data directory (SQLite database and master key).
        #[arg(long, env = "SWITCHYARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// PostgreSQL URL shared by several nodes (default: SQLite in the data directory).
        #[arg(long, env = "SWITCHYARD_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Benchmark: accepted/s, delivered/s and latency against the raw loopback HTTP rate.
    Bench(switchyard::bench::BenchArgs),
    /// Create the data directory and apply database migrations, then exit.
    Migrate {
        #[arg(long, env = "SWITCHYARD_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// PostgreSQL URL (default: SQLite in the data directory).
        #[arg(long, env = "SWITCHYARD_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Mint an access token with the data directory's JWT secret.
    Token(switchyard::cli::token::TokenArgs),
    /// Manage OAuth2 API clients.
    #[command(subcommand)]
    Clients(switchyard::cli::clients::ClientsCommand),
    /// Purge history older than the retention ages now (one pass, no pauses), then exit.
    Prune(switchyard::cli::prune::PruneArgs),
    /// Replace the master key and re-encrypt every stored secret with it (servers stopped).
    RotateMasterKey(switchyard::cli::rotate::RotateArgs),
    /// Print a shell completion script, e.g. `switchyard completions bash > /etc/bash_completion.d/switchyard`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The cause chain on one line; no backtrace, whatever RUST_BACKTRACE says.
            let text = format!("{e:#}").replace('\n', "; ");
            eprintln!("error: {text}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "switchyard",
            &mut std::io::stdout(),
        );
        return Ok(());
    }
    let mut config = Config::load(cli.config.as_deref())?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve {
                listen,
                data_dir,
                database_url,
            } => {
                if let Some(l) = listen {
                    config.listen = l;
                }
                if let Some(u) = database_url {
                    config.database_url = u;
                }
                if let Some(d) = data_dir {
                    config.data_dir = d;
                }
                let app = Application::build(config).await?;
                app.run(shutdown_signal()).await
            }
            Command::Bench(args) => switchyard::bench::run(args).await,
            Command::Migrate {
                data_dir,
                database_url,
            } => {
                if let Some(u) = database_url {
                    config.database_url = u;
                }
                if let Some(d) = data_dir {
                    config.data_dir = d;
                }
                switchyard::migrate(&config).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Token(args) => switchyard::cli::token::run(config, args),
            Command::Clients(cmd) => switchyard::cli::clients::run(config, cmd).await,
            Command::Prune(args) => switchyard::cli::prune::run(config, args).await,
            Command::RotateMasterKey(args) => switchyard::cli::rotate::run(config, args).await,
            Command::Completions { .. } => Ok(()),
        }
    })
}
/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}
