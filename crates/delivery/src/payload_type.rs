//! The prepare stage's last step for ZITADEL targets: the payload in the target's
//! `payloadType`. JSON goes as built; `PAYLOAD_TYPE_JWT` is the JSON signed as a compact JWS
//! with the instance's current web key (receivers verify it with the instance's JWKS at
//! `/oauth/v2/keys`); `PAYLOAD_TYPE_JWE` is the JSON encrypted as a compact JWE to the target's
//! active public key, `kid` naming it. Without an active (unexpired) key the attempt fails with
//! a clear error and is retried, so an operator can activate a key in time. The
//! `ZITADEL-Signature` header is computed over whatever body is sent.

use crate::web_keys::WebKeys;
use switchyard_core::jose::jwe;
use switchyard_core::zitadel::public_key::TargetPublicKey;
use switchyard_core::zitadel::PayloadType;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::Store;

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

/// Everything the encoding of one delivery needs.
pub struct Encoding<'a> {
    pub payload_type: PayloadType,
    pub instance: &'a InstanceId,
    pub target_id: &'a str,
    pub now: Timestamp,
}

/// `body` in the target's payload type; the error is the attempt's error text.
pub async fn encode(
    store: &dyn Store,
    web_keys: Option<&WebKeys>,
    how: &Encoding<'_>,
    body: &[u8],
) -> Result<Encoded, String> {
    match how.payload_type {
        PayloadType::Json => Ok(Encoded {
            body: body.to_vec(),
            content_type: JSON,
        }),
        PayloadType::Jwt => {
            let keys =
                web_keys.ok_or("PAYLOAD_TYPE_JWT: this server has no web keys configured")?;
            let signer = keys
                .signer(how.instance)
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
        PayloadType::Jwe => {
            let key = store
                .active_public_key(how.instance, how.target_id, how.now)
                .await
                .map_err(|e| format!("PAYLOAD_TYPE_JWE: reading the target's keys failed: {e}"))?
                .ok_or_else(|| {
                    format!(
                        "PAYLOAD_TYPE_JWE: target '{}' has no active, unexpired public key; add \
                         one (AddPublicKey) and activate it (ActivatePublicKey)",
                        how.target_id
                    )
                })?;
            let parsed = TargetPublicKey::parse_pem(&key.public_key)
                .map_err(|e| format!("PAYLOAD_TYPE_JWE: public key '{}': {e}", key.key_id))?;
            let compact = jwe::encrypt(
                body,
                parsed.material(),
                &key.key_id,
                &mut rand::thread_rng(),
            )
            .map_err(|e| format!("PAYLOAD_TYPE_JWE: {e}"))?;
            Ok(Encoded {
                body: compact.into_bytes(),
                content_type: JOSE,
            })
        }
    }
}
