//! `switchyard token`: mints an HS256 token with the data directory's secret, for operators and
//! scripts that have access to the server's files (bootstrap, tests, break-glass access).

use crate::auth::mint_token;
use crate::Config;
use clap::Args;
use std::path::PathBuf;
use switchyard_core::auth::Scopes;
use switchyard_core::InstanceId;

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// Data directory of the server (its JWT secret is used).
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Instance the token is bound to.
    #[arg(long, default_value = InstanceId::DEFAULT)]
    pub instance: String,
    /// Space-separated scopes, e.g. "targets:read targets:write", "admin", or "metrics:read"
    /// for a Prometheus scraper (server-wide; not implied by "admin").
    #[arg(long)]
    pub scopes: String,
    /// Lifetime, e.g. 15m, 1h, 1d.
    #[arg(long, default_value = "1h")]
    pub ttl: String,
    /// The token's subject (rate limits are kept per subject).
    #[arg(long, default_value = "cli")]
    pub subject: String,
}

/// Prints the token as the last line of stdout.
pub fn run(mut config: Config, args: TokenArgs) -> anyhow::Result<()> {
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    let instance =
        InstanceId::parse(&args.instance).map_err(|e| anyhow::anyhow!("--instance {}", e.rule))?;
    let scopes =
        Scopes::parse(&args.scopes).map_err(|e| anyhow::anyhow!("--scopes: {}", e.rule))?;
    let ttl = switchyard_core::duration::parse_human(&args.ttl)
        .map_err(|e| anyhow::anyhow!("--ttl: {e}"))?;
    anyhow::ensure!(ttl.as_secs() >= 1, "--ttl must be at least 1s");
    anyhow::ensure!(!args.subject.is_empty(), "--subject must not be empty");
    // The server's own secret, never a new one it would not accept.
    if config.auth.jwt_secret.is_none() && config.auth.jwt_secret_file.is_none() {
        crate::data_dir::DataDir::require_server(
            &config.data_dir,
            &[crate::auth::JWT_SECRET_FILE],
        )?;
    }
    let token = mint_token(&config, &args.subject, &instance, scopes, ttl)?;
    println!("{token}");
    Ok(())
}
