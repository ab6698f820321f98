//! The data directory: the SQLite database and the master key file, created on first start with
//! owner-only permissions (directory 0700, files 0600: payloads and secrets are not for other
//! local users). The key may live elsewhere (`master_key_file`) so several nodes
//! sharing a PostgreSQL database can use one key.

use anyhow::Context;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use switchyard_core::crypto::MasterKey;

pub const DATABASE_FILE: &str = "switchyard.db";
pub const MASTER_KEY_FILE: &str = "master.key";
pub const LOCK_FILE: &str = "switchyard.lock";

/// Proof that this process holds the data directory's lock.
#[derive(Debug)]
pub struct DataDirLock(#[allow(dead_code)] fs::File);

/// An opened data directory.
pub struct DataDir {
    pub path: PathBuf,
    pub master_key: MasterKey,
}

impl DataDir {
    /// Creates the directory and the master key if missing, then loads the key.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Self::open_with_key(path, None)
    }

    /// Like [`Self::open`], with the master key at `key_file` instead of `<path>/master.key`
    /// (generated there if missing).
    pub fn open_with_key(path: &Path, key_file: Option<&Path>) -> anyhow::Result<Self> {
        create_private_dir(path)?;
        let key_path = key_file.map_or_else(|| path.join(MASTER_KEY_FILE), Path::to_path_buf);
        let master_key = if key_path.exists() {
            let text = fs::read_to_string(&key_path)
                .with_context(|| format!("reading {}", key_path.display()))?;
            MasterKey::parse_file(&text)
                .with_context(|| format!("loading {}", key_path.display()))?
        } else {
            let (key, text) = MasterKey::generate_file();
            match write_private_file(&key_path, text.as_bytes()) {
                Ok(()) => {
                    tracing::info!(path = %key_path.display(), "generated a new master key");
                    key
                }
                // Another node sharing the file created it first: use theirs.
                Err(_) if key_path.exists() => {
                    let text = fs::read_to_string(&key_path)
                        .with_context(|| format!("reading {}", key_path.display()))?;
                    MasterKey::parse_file(&text)
                        .with_context(|| format!("loading {}", key_path.display()))?
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            master_key,
        })
    }

    /// Takes the data directory's exclusive lock: one server (or maintenance command) per data
    /// directory. Held until the returned guard is dropped; the OS releases it if the process dies.
    pub fn lock(&self) -> anyhow::Result<DataDirLock> {
        let path = self.path.join(LOCK_FILE);
        let mut opts = fs::OpenOptions::new();
        opts.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock(file)),
            Err(fs::TryLockError::WouldBlock) => anyhow::bail!(
                "data directory {} is in use by another switchyard process",
                self.path.display()
            ),
            Err(fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// For commands that act on an existing server's data (`token`, `clients`): the directory
    /// must exist and hold what the server generated on its first start, or the command would
    /// create a new secret that the server does not know.
    pub fn require_server(path: &Path, needs: &[&str]) -> anyhow::Result<()> {
        let hint = || {
            format!(
                "start the server once with `switchyard serve --data-dir {0}`, or point --data-dir \
                 (SWITCHYARD_DATA_DIR) at the server's data directory",
                path.display()
            )
        };
        if !path.is_dir() {
            anyhow::bail!(
                "data directory {} does not exist: {}",
                path.display(),
                hint()
            );
        }
        for file in needs {
            if !path.join(file).exists() {
                anyhow::bail!(
                    "data directory {} holds no server ({file} is missing): {}",
                    path.display(),
                    hint()
                );
            }
        }
        Ok(())
    }

    pub fn database_path(&self) -> PathBuf {
        self.path.join(DATABASE_FILE)
    }

    /// The SQLite database path, with the file created owner-only if missing. SQLite gives its
    /// `-wal` and `-shm` files the database file's permissions, so creating it 0600 before
    /// SQLite opens it keeps all three private; files an older version left readable by others
    /// are tightened.
    pub fn private_database_path(&self) -> anyhow::Result<PathBuf> {
        let db = self.database_path();
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&db)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("creating {}", db.display())),
            }
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", db.display()));
                if let Ok(meta) = fs::metadata(&p) {
                    if meta.permissions().mode() & 0o077 != 0 {
                        fs::set_permissions(&p, fs::Permissions::from_mode(0o600))
                            .with_context(|| format!("restricting {}", p.display()))?;
                    }
                }
            }
        }
        Ok(db)
    }
}

/// Creates the directory (0700), or tightens an existing one that others could read: it holds
/// the master key and every payload.
fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .with_context(|| format!("restricting {}", path.display()))?;
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

/// Replaces `path` with `contents` atomically (temporary file, fsync, rename), mode 0600: a
/// crash leaves either the old or the new file, never a torn one.
pub fn replace_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    write_private_file(&tmp, contents)?;
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
