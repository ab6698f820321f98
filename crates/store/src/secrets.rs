//! Maintenance of secrets at rest: re-sealing every stored secret with the current master key,
//! the heart of `switchyard rotate-master-key`.

use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::delivery_url::{is_sealed, DeliveryUrl};

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

/// Re-seals the sealed password of a delivery URL (a broker login); `Ok(None)` when the URL has
/// none, or one sealed with the current key, or one stored before passwords were sealed.
pub fn reseal_url(text: &str, reseal: &Resealer) -> Result<Option<String>, String> {
    let url = DeliveryUrl::parse("url", text).map_err(|e| e.to_string())?;
    match url.password() {
        Some(p) if is_sealed(&p) => match reseal(&p)? {
            Some(new) => {
                let url = url.map_password(|_| Ok::<_, String>(new))?;
                Ok(Some(url.as_str().to_string()))
            }
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Re-seals the secret fields of one subscription document; true if any changed.
pub fn reseal_subscription_doc(
    doc: &mut serde_json::Value,
    reseal: &Resealer,
) -> Result<bool, String> {
    let mut changed = false;
    if let Some(v) = doc.pointer_mut("/httpConfig/url") {
        if let Some(new) = v
            .as_str()
            .map(|u| reseal_url(u, reseal))
            .transpose()?
            .flatten()
        {
            *v = serde_json::Value::String(new);
            changed = true;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_resealed_when_sealed_and_left_alone_otherwise() {
        let reseal: &Resealer = &|s: &str| Ok((s == "v1:old:AAAA").then(|| "v1:new:BBBB".into()));
        assert_eq!(
            reseal_url("amqp://u:v1%3Aold%3AAAAA@h:5672/%2f?exchange=e", reseal).unwrap(),
            Some("amqp://u:v1%3Anew%3ABBBB@h:5672/%2f?exchange=e".into())
        );
        assert_eq!(
            reseal_url("amqp://u:v1%3Anew%3ABBBB@h/?exchange=e", reseal).unwrap(),
            None
        );
        assert_eq!(reseal_url("mqtt://u:plain@h/t", reseal).unwrap(), None);
        assert_eq!(
            reseal_url("https://example.com/hook", reseal).unwrap(),
            None
        );
        let mut doc =
            serde_json::json!({"httpConfig": {"url": "redis://:v1%3Aold%3AAAAA@h/0?stream=s"}});
        assert!(reseal_subscription_doc(&mut doc, reseal).unwrap());
        assert_eq!(
            doc["httpConfig"]["url"],
            "redis://:v1%3Anew%3ABBBB@h/0?stream=s"
        );
    }
}
