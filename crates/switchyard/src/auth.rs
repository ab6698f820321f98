//! Wiring of authentication for the server and the admin commands: where the HS256 secret comes
//! from (configured, a file, or generated into the data directory on first start), building the
//! verifier and limiter the API uses, and minting tokens with the same secret the server checks.

use crate::config::{AuthConfig, Config};
use crate::data_dir::write_private_file;
use anyhow::Context;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchyard_api::auth::{mint, AuthState, Claims, Limits, TokenVerifier};
use switchyard_core::auth::Scopes;
use switchyard_core::InstanceId;

/// The generated secret's file name inside the data directory.
pub const JWT_SECRET_FILE: &str = "jwt.secret";

/// The HS256 secret: `auth.jwt_secret`, else `auth.jwt_secret_file`, else `<data_dir>/jwt.secret`
/// (generated with 256 bits of entropy, mode 0600, if missing). The data directory must exist.
pub fn jwt_secret(config: &AuthConfig, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.jwt_secret {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(path) = &config.jwt_secret_file {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let secret = text.trim();
        anyhow::ensure!(
            secret.len() >= 32,
            "{} must hold at least 32 characters",
            path.display()
        );
        return Ok(secret.as_bytes().to_vec());
    }
    let path = data_dir.join(JWT_SECRET_FILE);
    if !path.exists() {
        let secret = switchyard_core::crypto::random_token(32);
        match write_private_file(&path, secret.as_bytes()) {
            Ok(()) => tracing::info!(path = %path.display(), "generated a new JWT secret"),
            // Another process (a CLI command next to the server) created it first: use theirs.
            Err(_) if path.exists() => {}
            Err(e) => return Err(e),
        }
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let secret = text.trim();
    anyhow::ensure!(
        secret.len() >= 32,
        "{} is damaged: too short",
        path.display()
    );
    Ok(secret.as_bytes().to_vec())
}

/// The API's authentication state for `config`.
pub fn auth_state(config: &Config, data_dir: &Path) -> anyhow::Result<Arc<AuthState>> {
    let auth = &config.auth;
    let jwks = match &auth.jwks_file {
        Some(p) => Some(fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let verifier = TokenVerifier::new(
        jwt_secret(auth, data_dir)?,
        jwks.as_deref(),
        auth.issuer.clone(),
        auth.audience.clone(),
    )
    .context("auth.jwks_file")?;
    let limits = Limits {
        management: auth.rate_limit.parse("auth.rate_limit")?,
        producer: auth
            .producer_rate_limit
            .as_ref()
            .map(|p| p.parse("auth.producer_rate_limit"))
            .transpose()?,
    };
    Ok(AuthState::new(verifier, limits, auth.token_ttl()?))
}

/// Mints an HS256 token for `instance` with `scopes`, valid for `ttl`, carrying the configured
/// issuer and audience so the server accepts it.
pub fn mint_token(
    config: &Config,
    subject: &str,
    instance: &InstanceId,
    scopes: Scopes,
    ttl: Duration,
) -> anyhow::Result<String> {
    let secret = jwt_secret(&config.auth, &config.data_dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let claims = Claims {
        sub: Some(subject.to_string()),
        instance: Some(instance.as_str().to_string()),
        scope: scopes.to_string(),
        exp: now + ttl.as_secs() as i64,
        iat: Some(now),
        iss: config.auth.issuer.clone(),
        aud: config.auth.audience.clone().map(serde_json::Value::String),
        client_id: None,
    };
    Ok(mint(&secret, &claims))
}
