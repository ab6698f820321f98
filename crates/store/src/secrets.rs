//! Maintenance of secrets at rest: re-sealing every stored secret with the current master key,
//! the heart of `switchyard rotate-master-key`.

use crate::StoreResult;
use async_trait::async_trait;

/// Turns a sealed value into the same secret sealed with the current key (`Ok(None)`: already
/// current); `Err` names why it cannot be opened.
pub type Resealer = dyn Fn(&str) -> Result<Option<String>, String> + Send + Sync;

/// Where subscription documents keep sealed secrets (JSON pointers).
pub const SUBSCRIPTION_SECRET_POINTERS: [&str; 2] = [
    "/httpConfig/basicAuthConfig/password",
    "/httpConfig/bearerTokenAuthConfig/bearerToken",
];

#[async_trait]
pub trait SecretStore {
    /// Re-seals every stored secret (signing keys, subscription secrets, passwords, bearer
    /// tokens) in one transaction: all or nothing. Returns how many values changed. The SQLite
    /// backend then rewrites its file so no old ciphertext remains in free pages or the WAL
    /// (PostgreSQL's dead row versions go with its regular VACUUM).
    async fn reseal_secrets(&self, reseal: &Resealer) -> StoreResult<u64>;
}

/// Re-seals the secret fields of one subscription document; true if any changed.
pub fn reseal_subscription_doc(
    doc: &mut serde_json::Value,
    reseal: &Resealer,
) -> Result<bool, String> {
    let mut changed = false;
    for pointer in SUBSCRIPTION_SECRET_POINTERS {
        if let Some(v) = doc.pointer_mut(pointer) {
            if let Some(sealed) = v.as_str() {
                if let Some(new) = reseal(sealed)? {
                    *v = serde_json::Value::String(new);
                    changed = true;
                }
            }
        }
    }
    Ok(changed)
}
