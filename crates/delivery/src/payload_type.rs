//! The encode stage for ZITADEL targets: the payload in the target's `payloadType`. JSON goes
//! as built; `PAYLOAD_TYPE_JWT` is the JSON signed as a compact JWS with the instance's current
//! web key (receivers verify it with the instance's JWKS at `/oauth/v2/keys`);
//! `PAYLOAD_TYPE_JWE` is the JSON encrypted as a compact JWE to the target's active public key,
//! `kid` naming it. Without an active (unexpired) key the attempt fails with a clear error and
//! is retried, so an operator can activate a key in time. The `ZITADEL-Signature` header is
//! computed over whatever body is sent.
//!
//! The target's active key is read when its route is resolved ([`PayloadEncoding::resolve`])
//! and cached with the route until the key expires, so a delivery reads no database; a key
//! change through the API invalidates the cached route like any target change.

use crate::web_keys::WebKeys;
use std::sync::Arc;
use switchyard_core::jose::jwe;
use switchyard_core::zitadel::public_key::{PublicKeyMaterial, TargetPublicKey};
use switchyard_core::zitadel::PayloadType;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::{Store, StoreResult};

/// A body ready to send and its media type.
#[derive(Debug)]
pub struct Encoded {
    pub body: Vec<u8>,
    pub content_type: &'static str,
}

/// Media type of a JSON body.
pub const JSON: &str = "application/json";
/// Media type of a compact JWS (RFC 7519).
pub const JWT: &str = "application/jwt";
/// Media type of a compact JWE (RFC 7516 §9.2.1).
pub const JOSE: &str = "application/jose";

/// The key JWE payloads of a target are encrypted to.
#[derive(Debug)]
pub struct EncryptionKey {
    pub key_id: String,
    pub material: PublicKeyMaterial,
    pub expires_at: Option<Timestamp>,
}

/// How a route's bodies are encoded, resolved with the route.
#[derive(Debug, Clone)]
pub enum PayloadEncoding {
    Json,
    /// Signed with the instance's current web key.
    Jwt,
    /// Encrypted to the target's active key; the error says why there is none.
    Jwe(Result<Arc<EncryptionKey>, String>),
}

impl PayloadEncoding {
    /// The encoding of target `target_id` with `payload_type` at `now`, and until when it holds
    /// (the active key's expiry).
    pub async fn resolve(
        store: &dyn Store,
        instance: &InstanceId,
        target_id: &str,
        payload_type: PayloadType,
        now: Timestamp,
    ) -> StoreResult<(Self, Option<Timestamp>)> {
        Ok(match payload_type {
            PayloadType::Json => (Self::Json, None),
            PayloadType::Jwt => (Self::Jwt, None),
            PayloadType::Jwe => {
                let Some(key) = store.active_public_key(instance, target_id, now).await? else {
                    let why = format!(
                        "PAYLOAD_TYPE_JWE: target '{target_id}' has no active, unexpired public \
                         key; add one (AddPublicKey) and activate it (ActivatePublicKey)"
                    );
                    return Ok((Self::Jwe(Err(why)), None));
                };
                let parsed = TargetPublicKey::parse_pem(&key.public_key).map_err(|e| {
                    format!("PAYLOAD_TYPE_JWE: public key '{}': {}", key.key_id, e.rule)
                });
                let resolved = parsed.map(|p| {
                    Arc::new(EncryptionKey {
                        key_id: key.key_id,
                        material: p.material().clone(),
                        expires_at: key.expires_at,
                    })
                });
                (Self::Jwe(resolved), key.expires_at)
            }
        })
    }

    pub fn is_json(&self) -> bool {
        matches!(self, Self::Json)
    }
}

/// `body` in the route's encoding at `now`; the error is the attempt's error text.
pub async fn encode(
    web_keys: Option<&WebKeys>,
    encoding: &PayloadEncoding,
    instance: &InstanceId,
    now: Timestamp,
    body: &[u8],
) -> Result<Encoded, String> {
    match encoding {
        PayloadEncoding::Json => Ok(Encoded {
            body: body.to_vec(),
            content_type: JSON,
        }),
        PayloadEncoding::Jwt => {
            let keys =
                web_keys.ok_or("PAYLOAD_TYPE_JWT: this server has no web keys configured")?;
            let signer = keys
                .signer(instance)
                .await
                .map_err(|e| format!("PAYLOAD_TYPE_JWT: no web key to sign with: {e}"))?;
            let jws = signer
                .sign(body)
                .map_err(|e| format!("PAYLOAD_TYPE_JWT: {e}"))?;
            Ok(Encoded {
                body: jws.into_bytes(),
                content_type: JWT,
            })
        }
        PayloadEncoding::Jwe(Err(why)) => Err(why.clone()),
        PayloadEncoding::Jwe(Ok(key)) => {
            if key.expires_at.is_some_and(|e| e <= now) {
                return Err(format!(
                    "PAYLOAD_TYPE_JWE: the target has no active, unexpired public key (key '{}' \
                     expired); add one (AddPublicKey) and activate it (ActivatePublicKey)",
                    key.key_id
                ));
            }
            let compact = jwe::encrypt(body, &key.material, &key.key_id, &mut rand::thread_rng())
                .map_err(|e| format!("PAYLOAD_TYPE_JWE: {e}"))?;
            Ok(Encoded {
                body: compact.into_bytes(),
                content_type: JOSE,
            })
        }
    }
}
