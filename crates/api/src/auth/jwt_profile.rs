//! The JWT profile grant (RFC 7523) as ZITADEL service users use it: the client signs an
//! assertion `{iss, sub, aud, iat, exp}` with the private key of its key file (`RS256`, header
//! `kid` = the key file's `keyId`), `iss` and `sub` both its id, `aud` this server. The server
//! holds only the public key (`api_client_keys`), checks the signature, the times (with a minute
//! of leeway, and an assertion living at most an hour) and the audience, and then treats the
//! client as authenticated.

use super::oauth::{unavailable, OAuthError};
use crate::state::AppState;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use switchyard_store::ApiClient;

/// Longest accepted assertion, in bytes.
const MAX_ASSERTION_BYTES: usize = 8192;
/// Longest accepted assertion lifetime (`exp - iat`), in seconds.
const MAX_LIFETIME_SECS: i64 = 3600 + 60;
/// Clock skew tolerated on `iat` and `exp`, in seconds.
const LEEWAY_SECS: u64 = 60;

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
}

fn invalid(why: impl Into<String>) -> OAuthError {
    OAuthError::new("invalid_grant", 400, why)
}

/// The client that signed `assertion` for one of `audiences`.
pub async fn verify(
    state: &AppState,
    assertion: &str,
    audiences: &[&str],
) -> Result<ApiClient, OAuthError> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(invalid(format!(
            "assertion is longer than {MAX_ASSERTION_BYTES} bytes"
        )));
    }
    let header = decode_header(assertion).map_err(|e| invalid(format!("assertion: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid("assertion must be signed with RS256"));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("assertion header must name the key (kid)"))?;
    // `sub` names the client; it is read unverified only to find the key that verifies it.
    let unverified: Assertion = {
        let mut v = Validation::new(Algorithm::RS256);
        v.insecure_disable_signature_validation();
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        decode::<Assertion>(assertion, &DecodingKey::from_secret(&[]), &v)
            .map_err(|e| invalid(format!("assertion claims: {e}")))?
            .claims
    };
    let unknown = || invalid("unknown client or key");
    let key = state
        .store
        .client_key(&unverified.sub, &kid)
        .await
        .map_err(unavailable)?
        .ok_or_else(unknown)?;
    let now = state.clock.now();
    if key.expires_at.is_some_and(|e| e <= now) {
        return Err(invalid(format!("key '{kid}' has expired")));
    }
    let decoding = DecodingKey::from_rsa_pem(key.public_key.as_bytes())
        .map_err(|e| invalid(format!("stored key '{kid}' is unusable: {e}")))?;
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(audiences);
    v.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
    v.leeway = LEEWAY_SECS;
    let claims = decode::<Assertion>(assertion, &decoding, &v)
        .map_err(|e| invalid(format!("assertion: {e}")))?
        .claims;
    if claims.iss != claims.sub {
        return Err(invalid("assertion iss and sub must both be the client id"));
    }
    let now_secs = now.unix_seconds();
    if claims.iat > now_secs + LEEWAY_SECS as i64 {
        return Err(invalid("assertion is issued in the future (iat)"));
    }
    if claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(invalid("assertion lives longer than an hour (exp - iat)"));
    }
    state
        .store
        .client(&claims.sub)
        .await
        .map_err(unavailable)?
        .ok_or_else(unknown)
}
