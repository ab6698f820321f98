//! JOSE for ZITADEL payload types and sign-in: compact JWS signed with an instance's web key
//! (`RS256`, `ES256`), compact JWE to a target's public key (`RSA-OAEP-256` or `ECDH-ES+A256KW`,
//! content `A256GCM`) and the public JWKs that are published.
//!
//! No maintained JOSE crate fits the dependency rules: `josekit` needs OpenSSL, and the
//! RustCrypto/ring-based ones either do not do JWE with these algorithms or pull a second stack.
//! JWS therefore goes through `jsonwebtoken` (ring, already used to verify tokens), and JWE is
//! composed from the RustCrypto primitives (`rsa`, `p256`, `aes-gcm`, `aes-kw`) and tested
//! against RFC 7516 / RFC 7518 / RFC 3394 examples here and against independent
//! implementations (jwcrypto, PyJWT) end to end.

pub mod client_key;
pub mod jwe;
pub mod web_key;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Why a JOSE operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("key is unusable: {0}")]
    BadKey(String),
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("malformed JOSE object: {0}")]
    Malformed(String),
}

/// Base64url without padding, as JOSE writes every part.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads base64url without padding.
pub fn unb64url(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| JoseError::Malformed(format!("bad base64url: {e}")))
}
