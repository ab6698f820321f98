//! `switchyard rotate-master-key`: replaces the master key and re-seals every stored secret
//! with the new one. Steps, each safe to crash after: (1) the key file gets the new key in front
//! (it seals from now on) with the old key behind it (it still opens); (2) every sealed value in
//! the database is re-sealed with the new key in one transaction; (3) the old key is dropped
//! from the file. Running it again after a crash finishes the job. Servers must be stopped: the
//! data directory lock makes sure none runs on this data directory (for nodes sharing a
//! PostgreSQL database and a key file, stop all of them first).

use crate::data_dir::replace_private_file;
use crate::data_dir::MASTER_KEY_FILE;
use crate::Config;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Data directory (default: the configured one).
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (default: the configured one; empty = SQLite in the data directory).
    #[arg(long, env = "SWITCHYARD_DATABASE_URL")]
    pub database_url: Option<String>,
}

pub async fn run(mut config: Config, args: RotateArgs) -> anyhow::Result<()> {
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    if let Some(u) = args.database_url {
        config.database_url = u;
    }
    let data = crate::open_data_dir(&config)?;
    let _lock = data.lock()?;
    let key_path = config
        .master_key_file
        .clone()
        .unwrap_or_else(|| data.path.join(MASTER_KEY_FILE));
    let previous = data.master_key.id().to_string();

    let (ring, text) = data.master_key.rotated();
    replace_private_file(&key_path, text.as_bytes())?;
    let store = crate::open_store(&config, &data).await?;
    let opener = ring.clone();
    let reseal = move |sealed: &str| opener.reseal(sealed).map_err(|e| e.to_string());
    let resealed = store.reseal_secrets(&reseal).await?;
    store.close().await;
    let (current, text) = ring.current_only();
    replace_private_file(&key_path, text.as_bytes())?;
    tracing::info!(
        previous,
        current = current.id(),
        resealed,
        "master key rotated"
    );
    println!(
        "{}",
        serde_json::json!({"masterKeyId": current.id(), "previousMasterKeyId": previous, "resealed": resealed})
    );
    Ok(())
}
