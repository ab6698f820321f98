//! The target public-key RPCs of ZITADEL's v2 ActionService (`AddPublicKey`,
//! `ActivatePublicKey`, `DeactivatePublicKey`, `RemovePublicKey`, `ListPublicKeys`): their proto3
//! JSON messages and the operations behind both v2 surfaces (Connect carries the ids in the
//! body, REST in the path). The key is parsed and fingerprinted here; the store keeps the rules
//! that span keys (one active key, only inactive keys removable).

use super::wire::{PaginationJson, PaginationResponse};
use crate::error::ApiError;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use switchyard_core::ids::zitadel_id;
use switchyard_core::zitadel::public_key::TargetPublicKey;
use switchyard_core::{InstanceId, Timestamp, ValidationError};
use switchyard_store::target_keys::{
    NewPublicKey, PublicKeyFilter, PublicKeyQuery, PublicKeySort, StoredPublicKey, TimestampMethod,
};
use switchyard_store::StoreError;
use utoipa::ToSchema;

/// `AddPublicKeyRequest`. `publicKey` is a proto `bytes` field: base64 of the PEM.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddPublicKeyRequest {
    /// Connect: required; REST: taken from the path (may be repeated here).
    pub target_id: Option<String>,
    /// Base64 of a PEM RSA (2048..4096 bits) or EC P-256 public key of at most 8192 bytes.
    pub public_key: Option<String>,
    /// RFC 3339; after it the key is no longer used.
    pub expiration_date: Option<String>,
}

/// `AddPublicKeyResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddPublicKeyResponse {
    pub key_id: String,
    pub creation_date: String,
}

/// `{targetId, keyId}` of Activate/Deactivate/RemovePublicKey.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KeyRequest {
    pub target_id: Option<String>,
    pub key_id: Option<String>,
}

/// `ActivatePublicKeyResponse` / `DeactivatePublicKeyResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyChangedResponse {
    pub change_date: String,
}

/// `RemovePublicKeyResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyRemovedResponse {
    pub deletion_date: String,
}

/// `{timestamp, method}` (`TimestampFilter`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimestampFilterJson {
    pub timestamp: Option<String>,
    pub method: Option<String>,
}

/// `{ids}` (`InIDsFilter`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InIdsFilterJson {
    #[serde(default)]
    pub ids: Vec<String>,
}

/// `PublicKeySearchFilter`: exactly one of the fields.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PublicKeySearchFilterJson {
    pub active_filter: Option<bool>,
    pub expiration_date_filter: Option<TimestampFilterJson>,
    pub key_ids_filter: Option<InIdsFilterJson>,
}

/// `ListPublicKeysRequest`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListPublicKeysRequest {
    pub target_id: Option<String>,
    #[serde(default)]
    pub pagination: PaginationJson,
    pub sorting_column: Option<String>,
    #[serde(default)]
    pub filters: Vec<PublicKeySearchFilterJson>,
}

/// `PublicKey`; `publicKey` is base64 of the PEM (proto `bytes`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyJson {
    pub key_id: String,
    pub active: bool,
    pub public_key: String,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    pub creation_date: String,
    pub change_date: String,
}

impl From<StoredPublicKey> for PublicKeyJson {
    fn from(k: StoredPublicKey) -> Self {
        use base64::Engine;
        Self {
            key_id: k.key_id,
            active: k.active,
            public_key: base64::engine::general_purpose::STANDARD.encode(k.public_key),
            fingerprint: k.fingerprint,
            expiration_date: k.expires_at.map(Timestamp::rfc3339),
            creation_date: k.created_at.rfc3339(),
            change_date: k.changed_at.rfc3339(),
        }
    }
}

/// `ListPublicKeysResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListPublicKeysResponse {
    pub pagination: PaginationResponse,
    pub public_keys: Vec<PublicKeyJson>,
}

/// The id from the path (REST) or the body (Connect); both present must agree.
fn pick<'a>(
    field: &str,
    path: Option<&'a str>,
    body: Option<&'a str>,
) -> Result<&'a str, ApiError> {
    let id = match (path, body) {
        (Some(p), Some(b)) if p != b => {
            return Err(ApiError::invalid(format!(
                "invalid {field}: the body's '{b}' differs from the path's '{p}'"
            )))
        }
        (Some(p), _) => p,
        (None, Some(b)) => b,
        (None, None) => "",
    };
    if id.trim().is_empty() {
        return Err(ApiError::invalid(format!("invalid {field}: is required")));
    }
    Ok(id)
}

fn missing<'a>(target_id: &'a str, key_id: Option<&str>) -> impl Fn(StoreError) -> ApiError + 'a {
    let key_id = key_id.map(str::to_string);
    move |e| match (e, &key_id) {
        (StoreError::NotFound, Some(k)) => ApiError::not_found(format!(
            "public key '{k}' of target '{target_id}' not found"
        )),
        (StoreError::NotFound, None) => {
            ApiError::not_found(format!("target '{target_id}' not found"))
        }
        (other, _) => other.into(),
    }
}

fn timestamp(field: &str, value: &str) -> Result<Timestamp, ValidationError> {
    Timestamp::parse_rfc3339(value).ok_or_else(|| {
        ValidationError::new(
            field,
            format!("'{value}' is not an RFC 3339 timestamp such as 2026-01-31T12:00:00Z"),
        )
    })
}

pub async fn add(
    state: &AppState,
    instance: &InstanceId,
    path_target: Option<&str>,
    req: &AddPublicKeyRequest,
) -> Result<AddPublicKeyResponse, ApiError> {
    let target_id = pick("targetId", path_target, req.target_id.as_deref())?;
    let key = TargetPublicKey::from_wire(req.public_key.as_deref().unwrap_or(""))?;
    let now = state.clock.now();
    let expires_at = req
        .expiration_date
        .as_deref()
        .map(|v| timestamp("expirationDate", v))
        .transpose()?;
    if expires_at.is_some_and(|e| e <= now) {
        return Err(ValidationError::new("expirationDate", "must be in the future").into());
    }
    let new = NewPublicKey {
        key_id: zitadel_id(),
        public_key: key.pem().to_string(),
        fingerprint: key.fingerprint().to_string(),
        expires_at,
    };
    let stored = state
        .store
        .add_public_key(instance, target_id, &new, now)
        .await
        .map_err(missing(target_id, None))?;
    Ok(AddPublicKeyResponse {
        key_id: stored.key_id,
        creation_date: stored.created_at.rfc3339(),
    })
}

/// What a [`KeyRequest`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChange {
    Activate,
    Deactivate,
}

pub async fn change(
    state: &AppState,
    instance: &InstanceId,
    path: (Option<&str>, Option<&str>),
    req: &KeyRequest,
    change: KeyChange,
) -> Result<KeyChangedResponse, ApiError> {
    let target_id = pick("targetId", path.0, req.target_id.as_deref())?;
    let key_id = pick("keyId", path.1, req.key_id.as_deref())?;
    let now = state.clock.now();
    let store = &state.store;
    let at = match change {
        KeyChange::Activate => store.activate_public_key(instance, target_id, key_id, now),
        KeyChange::Deactivate => store.deactivate_public_key(instance, target_id, key_id, now),
    }
    .await
    .map_err(missing(target_id, Some(key_id)))?;
    Ok(KeyChangedResponse {
        change_date: at.rfc3339(),
    })
}

pub async fn remove(
    state: &AppState,
    instance: &InstanceId,
    path: (Option<&str>, Option<&str>),
    req: &KeyRequest,
) -> Result<KeyRemovedResponse, ApiError> {
    let target_id = pick("targetId", path.0, req.target_id.as_deref())?;
    let key_id = pick("keyId", path.1, req.key_id.as_deref())?;
    let at = state
        .store
        .remove_public_key(instance, target_id, key_id, state.clock.now())
        .await
        .map_err(missing(target_id, Some(key_id)))?;
    Ok(KeyRemovedResponse {
        deletion_date: at.rfc3339(),
    })
}

fn sort(s: &str) -> Result<PublicKeySort, ValidationError> {
    Ok(match s {
        "PUBLIC_KEY_FIELD_NAME_UNSPECIFIED" | "PUBLIC_KEY_FIELD_NAME_CREATION_DATE" => {
            PublicKeySort::CreationDate
        }
        "PUBLIC_KEY_FIELD_NAME_CHANGE_DATE" => PublicKeySort::ChangeDate,
        "PUBLIC_KEY_FIELD_NAME_EXPIRATION_DATE" => PublicKeySort::ExpirationDate,
        other => {
            return Err(ValidationError::new(
                "sortingColumn",
                format!("'{other}' is not a PUBLIC_KEY_FIELD_NAME_* value"),
            ))
        }
    })
}

fn method(field: &str, s: Option<&str>) -> Result<TimestampMethod, ValidationError> {
    Ok(match s.unwrap_or("TIMESTAMP_FILTER_METHOD_EQUALS") {
        "TIMESTAMP_FILTER_METHOD_EQUALS" => TimestampMethod::Equals,
        "TIMESTAMP_FILTER_METHOD_AFTER" => TimestampMethod::After,
        "TIMESTAMP_FILTER_METHOD_AFTER_OR_EQUALS" => TimestampMethod::AfterOrEquals,
        "TIMESTAMP_FILTER_METHOD_BEFORE" => TimestampMethod::Before,
        "TIMESTAMP_FILTER_METHOD_BEFORE_OR_EQUALS" => TimestampMethod::BeforeOrEquals,
        other => {
            return Err(ValidationError::new(
                field,
                format!("'{other}' is not a TIMESTAMP_FILTER_METHOD_* value"),
            ))
        }
    })
}

impl PublicKeySearchFilterJson {
    fn to_store(&self, i: usize) -> Result<PublicKeyFilter, ValidationError> {
        let at = |name: &str| format!("filters[{i}].{name}");
        match (
            self.active_filter,
            &self.expiration_date_filter,
            &self.key_ids_filter,
        ) {
            (Some(a), None, None) => Ok(PublicKeyFilter::Active(a)),
            (None, Some(t), None) => {
                let field = at("expirationDateFilter");
                let when = t.timestamp.as_deref().ok_or_else(|| {
                    ValidationError::new(format!("{field}.timestamp"), "is required")
                })?;
                Ok(PublicKeyFilter::Expiration(
                    method(&format!("{field}.method"), t.method.as_deref())?,
                    timestamp(&format!("{field}.timestamp"), when)?,
                ))
            }
            (None, None, Some(ids)) => Ok(PublicKeyFilter::Ids(ids.ids.clone())),
            _ => Err(ValidationError::new(
                format!("filters[{i}]"),
                "must set exactly one of activeFilter, expirationDateFilter, keyIdsFilter",
            )),
        }
    }
}

pub async fn list(
    state: &AppState,
    instance: &InstanceId,
    path_target: Option<&str>,
    req: &ListPublicKeysRequest,
) -> Result<ListPublicKeysResponse, ApiError> {
    let target_id = pick("targetId", path_target, req.target_id.as_deref())?;
    let query = PublicKeyQuery {
        filters: req
            .filters
            .iter()
            .enumerate()
            .map(|(i, f)| f.to_store(i))
            .collect::<Result<_, _>>()?,
        sort: req
            .sorting_column
            .as_deref()
            .map(sort)
            .transpose()?
            .unwrap_or_default(),
        page: req.pagination.to_page()?,
    };
    let listing = state
        .store
        .list_public_keys(instance, target_id, &query)
        .await
        .map_err(missing(target_id, None))?;
    Ok(ListPublicKeysResponse {
        pagination: PaginationResponse {
            total_result: listing.total.to_string(),
            applied_limit: query.page.limit.to_string(),
        },
        public_keys: listing.items.into_iter().map(PublicKeyJson::from).collect(),
    })
}
