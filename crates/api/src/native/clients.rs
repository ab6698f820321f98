//! The instance's API clients: `GET /v1/clients` lists them (never their secrets) and
//! `DELETE /v1/clients/{id}` revokes one: the client can no longer get tokens, and the tokens it
//! already holds stop being accepted (see `auth::LiveClients`).

use super::wire::{ClientList, ClientOut};
use crate::dialect::{DialectKind, Native};
use crate::error::{ApiError, ApiResult};
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use switchyard_core::auth::Scope;
use switchyard_store::StoreError;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::Admin), routes!(list_clients))
        .add(Rule::scope(Scope::Admin), routes!(revoke_client))
}

/// The instance's API clients (OAuth2 client credentials), oldest first.
#[utoipa::path(get, path = "/v1/clients", tag = "native",
    responses((status = 200, description = "the clients, without their secrets", body = ClientList)))]
async fn list_clients(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
) -> ApiResult<Json<ClientList>, Native> {
    let clients = state.store.clients(&tenant.instance).await?;
    Ok(Json(ClientList {
        clients: clients
            .into_iter()
            .map(|c| ClientOut {
                id: c.id,
                scopes: c.scopes.to_string(),
                rate_limit: c.management_limit.map(|l| l.to_string()),
                producer_rate_limit: c.producer_limit.map(|l| l.to_string()),
                created_at: c.created_at.rfc3339(),
            })
            .collect(),
    }))
}

/// Revoke a client: it gets no more tokens, and the tokens it holds stop working at once.
#[utoipa::path(delete, path = "/v1/clients/{id}", tag = "native",
    params(("id" = String, Path, description = "client id")),
    responses((status = 204, description = "revoked"), (status = 404, description = "not found")))]
async fn revoke_client(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode, Native> {
    match state.store.delete_client(&tenant.instance, &id).await {
        Ok(()) => {
            state.auth.live_clients.forget(&id);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => {
            Err(ApiError::not_found(format!("client '{id}' not found")).into())
        }
        Err(e) => Err(e.into()),
    }
}
