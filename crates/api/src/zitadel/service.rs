//! The ZITADEL operations behind all three surfaces (v3alpha REST, v2 REST, v2 Connect): each
//! surface only translates its JSON into core types and back. Signing keys are generated and
//! sealed here (the store only sees sealed strings); execution conditions are checked against
//! the catalog here, before the store's transactional checks of targets and includes.

use crate::error::{ApiError, Code};
use crate::state::AppState;
use switchyard_core::crypto::random_token;
use switchyard_core::ids::{hex_id, zitadel_id};
use switchyard_core::zitadel::{
    check_entries, Condition, Endpoint, ExecutionEntry, KeyExpiration, TargetConfig, TargetPatch,
};
use switchyard_core::{InstanceId, Timestamp, ValidationError};
use switchyard_store::keys::SealedKey;
use switchyard_store::zitadel::{ExecutionRejection, KeyRotation, StoredTarget};
use switchyard_store::StoreError;

/// A target as a client sees it: stored fields plus the opened current signing key.
pub struct TargetView {
    pub stored: StoredTarget,
    pub signing_key: String,
}

/// 24 random bytes: 32 URL-safe characters.
fn new_key(state: &AppState, now: Timestamp) -> (String, SealedKey) {
    let plain = random_token(24);
    let sealed = SealedKey {
        key_id: hex_id(),
        sealed: state.master_key.seal_str(&plain),
        created_at: now,
        expires_at: None,
    };
    (plain, sealed)
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("target '{id}' not found"))
}

fn map_missing(id: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NotFound => not_found(id),
        other => other.into(),
    }
}

fn require_id(id: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() {
        return Err(ApiError::invalid("invalid id: must not be empty"));
    }
    Ok(())
}

fn open(state: &AppState, stored: StoredTarget) -> Result<TargetView, ApiError> {
    let signing_key = state
        .master_key
        .open_str(&stored.signing_key.sealed)
        .map_err(|e| {
            ApiError::internal(anyhow::Error::new(e).context("opening a target signing key"))
        })?;
    Ok(TargetView {
        stored,
        signing_key,
    })
}

/// How a stored password is shown in answers.
const MASK: &str = "***";

/// The endpoint to store: its password sealed. An endpoint equal to the stored one as answered
/// (`current`, password masked) is the stored one, unchanged; a masked password anywhere else is
/// refused rather than stored as the password `***`.
fn seal_endpoint(
    state: &AppState,
    endpoint: &Endpoint,
    current: Option<&Endpoint>,
) -> Result<Endpoint, ApiError> {
    if let Some(current) = current.filter(|c| c.masked() == endpoint.as_str()) {
        return Ok(current.clone());
    }
    if endpoint.url().password().as_deref() == Some(MASK) {
        return Err(ValidationError::new(
            "endpoint",
            "the password '***' stands for a stored one: send the endpoint as answered to keep it, or the new password",
        )
        .into());
    }
    endpoint
        .map_password(|p| Ok::<_, std::convert::Infallible>(state.master_key.seal_str(p)))
        .map_err(|never| match never {})
}

pub async fn create_target(
    state: &AppState,
    instance: &InstanceId,
    config: TargetConfig,
) -> Result<TargetView, ApiError> {
    state.check_outbound("endpoint", config.endpoint.url())?;
    let mut config = config;
    config.endpoint = seal_endpoint(state, &config.endpoint, None)?;
    let now = state.clock.now();
    let (plain, sealed) = new_key(state, now);
    let stored = state
        .store
        .create_target(instance, &zitadel_id(), &config, &sealed, now)
        .await?;
    Ok(TargetView {
        stored,
        signing_key: plain,
    })
}

/// Updates the target; the new key is returned when `expiration` asked for a rotation.
pub async fn update_target(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
    patch: TargetPatch,
    expiration: Option<KeyExpiration>,
) -> Result<(StoredTarget, Option<String>), ApiError> {
    require_id(id)?;
    let mut patch = patch;
    if let Some(endpoint) = patch.endpoint.take() {
        state.check_outbound("endpoint", endpoint.url())?;
        // An endpoint sent back as answered (password masked) keeps the stored password.
        let current = match endpoint.url().password().as_deref() {
            Some(MASK) => match state.store.get_target(instance, id).await {
                Ok(t) => Some(t.config.endpoint),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            _ => None,
        };
        patch.endpoint = Some(seal_endpoint(state, &endpoint, current.as_ref())?);
    }
    let now = state.clock.now();
    let rotation = expiration.map(|exp| {
        let (plain, key) = new_key(state, now);
        (
            plain,
            KeyRotation {
                key,
                grace_ms: exp.grace_millis(),
            },
        )
    });
    let stored = state
        .store
        .update_target(instance, id, &patch, rotation.as_ref().map(|(_, r)| r), now)
        .await
        .map_err(map_missing(id))?;
    Ok((stored, rotation.map(|(plain, _)| plain)))
}

pub async fn get_target(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
) -> Result<TargetView, ApiError> {
    require_id(id)?;
    let stored = state
        .store
        .get_target(instance, id)
        .await
        .map_err(map_missing(id))?;
    open(state, stored)
}

/// Deletes the target; `Ok(false)` when it did not exist.
pub async fn delete_target(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
) -> Result<bool, ApiError> {
    require_id(id)?;
    Ok(state
        .store
        .delete_target(instance, id, state.clock.now())
        .await?)
}

/// Opens the current key of each listed target.
pub fn open_all(state: &AppState, items: Vec<StoredTarget>) -> Result<Vec<TargetView>, ApiError> {
    items.into_iter().map(|t| open(state, t)).collect()
}

/// Sets or (with no entries) removes an execution. Names in the condition and in includes
/// must be in the catalog; targets and includes must exist.
pub async fn set_execution(
    state: &AppState,
    instance: &InstanceId,
    condition: &Condition,
    entries: &[ExecutionEntry],
) -> Result<Timestamp, ApiError> {
    check_entries(entries)?;
    let catalog = &state.zitadel_catalog;
    catalog
        .check(condition)
        .map_err(|e| ApiError::from(e.within("condition")))?;
    for (i, e) in entries.iter().enumerate() {
        if let ExecutionEntry::Include(c) = e {
            catalog
                .check(c)
                .map_err(|e| ApiError::from(e.within(&format!("targets[{i}].include"))))?;
        }
    }
    let now = state.clock.now();
    match state
        .store
        .set_execution(instance, condition, entries, now)
        .await?
    {
        Ok(()) => Ok(now),
        Err(r @ ExecutionRejection::UnknownTarget(_)) => {
            Err(ApiError::new(Code::NotFound, r.to_string()))
        }
        Err(r @ ExecutionRejection::Include(_)) => {
            Err(ApiError::invalid(format!("invalid include: {r}")))
        }
        Err(r @ ExecutionRejection::StillIncluded(..)) => {
            Err(ApiError::new(Code::FailedPrecondition, r.to_string()))
        }
    }
}
