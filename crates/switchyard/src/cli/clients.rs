//! `switchyard clients create|list|revoke`: API clients for the OAuth2 client-credentials flow.
//! A new client's secret is random (256 bits), shown exactly once, and stored only as a digest;
//! a revoked client gets no more tokens and the ones it holds stop being accepted (within a
//! second on a running server). With `--key-file OUT.json` a new client also gets an RSA key
//! pair for the JWT profile grant: the private key goes only into that ZITADEL-style key file
//! (`{"type":"serviceaccount","keyId","key","userId"}`, what `Zitadel.with_private_key` reads);
//! the server stores the public key.

use crate::Config;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use switchyard_core::auth::{RateLimit, Scopes};
use switchyard_core::crypto::{hash_secret, random_token};
use switchyard_core::{Clock, InstanceId, SystemClock};
use switchyard_store::{ApiClient, ClientKey};

#[derive(Subcommand, Debug)]
pub enum ClientsCommand {
    /// Creates a client; prints {"clientId", "clientSecret"} as the last line of stdout.
    Create(CreateArgs),
    /// Lists an instance's clients as JSON lines (never their secrets).
    List(ListArgs),
    /// Revokes a client: no more tokens, and its tokens stop working.
    Revoke(RevokeArgs),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Instance whose clients to list.
    #[arg(long, default_value = InstanceId::DEFAULT)]
    pub instance: String,
}

#[derive(Args, Debug)]
pub struct RevokeArgs {
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Instance the client belongs to.
    #[arg(long, default_value = InstanceId::DEFAULT)]
    pub instance: String,
    /// The client id.
    pub id: String,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Instance the client's tokens are bound to.
    #[arg(long, default_value = InstanceId::DEFAULT)]
    pub instance: String,
    /// Space-separated scopes the client's tokens carry.
    #[arg(long)]
    pub scopes: String,
    /// Own limit on the management APIs, e.g. 500/10s (default: auth.rate_limit).
    #[arg(long)]
    pub rate_limit: Option<String>,
    /// Own limit on the producer API, e.g. 1000/1s (default: auth.producer_rate_limit).
    #[arg(long)]
    pub producer_rate_limit: Option<String>,
    /// Also create a key pair and write the ZITADEL-style key file (private key) here; the file
    /// must not exist yet.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
}

pub async fn run(mut config: Config, cmd: ClientsCommand) -> anyhow::Result<()> {
    match cmd {
        ClientsCommand::Create(args) => {
            if let Some(d) = &args.data_dir {
                config.data_dir = d.clone();
            }
            create(&config, args).await
        }
        ClientsCommand::List(args) => {
            if let Some(d) = &args.data_dir {
                config.data_dir = d.clone();
            }
            list(&config, &args).await
        }
        ClientsCommand::Revoke(args) => {
            if let Some(d) = &args.data_dir {
                config.data_dir = d.clone();
            }
            revoke(&config, &args).await
        }
    }
}

/// The data directory must be a server's: its master key, and its database unless the server
/// uses PostgreSQL.
fn require_server(config: &Config) -> anyhow::Result<()> {
    let mut needs = Vec::new();
    if config.master_key_file.is_none() {
        needs.push(crate::data_dir::MASTER_KEY_FILE);
    }
    if config.database_url.is_empty() {
        needs.push(crate::data_dir::DATABASE_FILE);
    }
    crate::data_dir::DataDir::require_server(&config.data_dir, &needs)
}

fn instance_arg(text: &str) -> anyhow::Result<InstanceId> {
    InstanceId::parse(text).map_err(|e| anyhow::anyhow!("--instance {}", e.rule))
}

async fn list(config: &Config, args: &ListArgs) -> anyhow::Result<()> {
    let instance = instance_arg(&args.instance)?;
    require_server(config)?;
    let data = crate::open_data_dir(config)?;
    let store = crate::open_store(config, &data).await?;
    let result = store.clients(&instance).await;
    store.close().await;
    for c in result? {
        println!(
            "{}",
            serde_json::json!({
                "clientId": c.id,
                "scopes": c.scopes.to_string(),
                "rateLimit": c.management_limit.map(|l| l.to_string()),
                "producerRateLimit": c.producer_limit.map(|l| l.to_string()),
                "createdAt": c.created_at.rfc3339(),
            })
        );
    }
    Ok(())
}

async fn revoke(config: &Config, args: &RevokeArgs) -> anyhow::Result<()> {
    let instance = instance_arg(&args.instance)?;
    require_server(config)?;
    let data = crate::open_data_dir(config)?;
    let store = crate::open_store(config, &data).await?;
    let result = store.delete_client(&instance, &args.id).await;
    store.close().await;
    match result {
        Ok(()) => {
            eprintln!("revoked client {} of instance {instance}", args.id);
            Ok(())
        }
        Err(switchyard_store::StoreError::NotFound) => Err(anyhow::anyhow!(
            "instance {instance} has no client '{}'",
            args.id
        )),
        Err(e) => Err(e.into()),
    }
}

async fn create(config: &Config, args: CreateArgs) -> anyhow::Result<()> {
    let instance =
        InstanceId::parse(&args.instance).map_err(|e| anyhow::anyhow!("--instance {}", e.rule))?;
    let scopes =
        Scopes::parse(&args.scopes).map_err(|e| anyhow::anyhow!("--scopes: {}", e.rule))?;
    let limit = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<RateLimit>> {
        v.as_deref()
            .map(|s| RateLimit::parse(s).map_err(|e| anyhow::anyhow!("{flag}: {}", e.rule)))
            .transpose()
    };
    let management_limit = limit("--rate-limit", &args.rate_limit)?;
    let producer_limit = limit("--producer-rate-limit", &args.producer_rate_limit)?;

    require_server(config)?;
    let data = crate::open_data_dir(config)?;
    let store = crate::open_store(config, &data).await?;
    let secret = random_token(32);
    let client = ApiClient {
        id: switchyard_core::ids::hex_id(),
        instance,
        secret_hash: hash_secret(&secret),
        scopes,
        management_limit,
        producer_limit,
        created_at: SystemClock.now(),
    };
    let result = match &args.key_file {
        None => store
            .create_client(&client)
            .await
            .map_err(anyhow::Error::from),
        Some(path) => create_with_key_file(store.as_ref(), &client, path).await,
    };
    store.close().await;
    result?;
    eprintln!(
        "created client {} in instance {} with scopes \"{}\"; the secret is shown only once",
        client.id, client.instance, client.scopes
    );
    println!(
        "{}",
        serde_json::json!({"clientId": client.id, "clientSecret": secret})
    );
    Ok(())
}

/// Generates the key pair, writes the key file (new, owner-only) and stores the client with the
/// public key; the file is removed again if the client cannot be stored.
async fn create_with_key_file(
    store: &dyn switchyard_store::Store,
    client: &ApiClient,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let (private_pem, public_pem) =
        switchyard_core::jose::client_key::generate(&mut rand::thread_rng())?;
    let key = ClientKey {
        client_id: client.id.clone(),
        key_id: switchyard_core::ids::zitadel_id(),
        public_key: public_pem,
        created_at: client.created_at,
        expires_at: None,
    };
    let file = serde_json::json!({
        "type": "serviceaccount",
        "keyId": key.key_id,
        "key": private_pem,
        "userId": client.id,
    });
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    out.write_all(serde_json::to_string_pretty(&file)?.as_bytes())
        .and_then(|()| out.sync_all())
        .with_context(|| format!("writing the key file {}", path.display()))?;
    if let Err(e) = store.create_client_with_key(client, &key).await {
        let _ = std::fs::remove_file(path);
        return Err(e.into());
    }
    eprintln!(
        "wrote key {} of client {} to {}",
        key.key_id,
        client.id,
        path.display()
    );
    Ok(())
}
