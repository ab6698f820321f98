//! The data directory: the SQLite database and the master key file, created on first start with
//! owner-only permissions.

use anyhow::Context;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use switchyard_core::crypto::MasterKey;

pub const DATABASE_FILE: &str = "switchyard.db";
pub const MASTER_KEY_FILE: &str = "master.key";

/// An opened data directory.
pub struct DataDir {
    pub path: PathBuf,
    pub master_key: MasterKey,
}

impl DataDir {
    /// Creates the directory and the master key if missing, then loads the key.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        create_private_dir(path)?;
        let key_path = path.join(MASTER_KEY_FILE);
        let master_key = if key_path.exists() {
            let text = fs::read_to_string(&key_path)
                .with_context(|| format!("reading {}", key_path.display()))?;
            MasterKey::parse_file(&text)
                .with_context(|| format!("loading {}", key_path.display()))?
        } else {
            let (key, text) = MasterKey::generate_file();
            write_private_file(&key_path, text.as_bytes())?;
            tracing::info!(path = %key_path.display(), "generated a new master key");
            key
        };
        Ok(Self {
            path: path.to_path_buf(),
            master_key,
        })
    }

    pub fn database_path(&self) -> PathBuf {
        self.path.join(DATABASE_FILE)
    }
}

fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Writes a new file readable by the owner only (mode 0600), failing if it already exists.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}
