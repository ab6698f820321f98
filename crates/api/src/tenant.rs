//! Which instance a request acts on. `instance.id` or `instance.domain` in the query select it;
//! without either, the default instance. (Authentication will bind the instance to the token.)

use crate::dialect::Dialect;
use crate::error::{ApiError, Failure};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use std::marker::PhantomData;
use switchyard_core::InstanceId;

/// The instance the request acts on, resolved before the handler runs.
pub struct Tenant<D> {
    pub instance: InstanceId,
    _dialect: PhantomData<D>,
}

#[derive(Deserialize)]
struct InstanceSelector {
    #[serde(rename = "instance.id")]
    id: Option<String>,
    #[serde(rename = "instance.domain")]
    domain: Option<String>,
}

impl<D: Dialect> FromRequestParts<AppState> for Tenant<D> {
    type Rejection = Failure<D>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let sel: InstanceSelector = parse_selector(parts.uri.query().unwrap_or(""));
        let instance = match (
            sel.id.filter(|s| !s.is_empty()),
            sel.domain.filter(|s| !s.is_empty()),
        ) {
            (Some(id), _) => InstanceId::parse(&id)?,
            (None, Some(domain)) => {
                state
                    .store
                    .instance_by_domain(&domain)
                    .await?
                    .ok_or_else(|| {
                        ApiError::not_found(format!("no instance has the domain '{domain}'"))
                    })?
            }
            (None, None) => InstanceId::default_instance(),
        };
        if let Some(slot) = parts
            .extensions
            .get::<crate::invalidate::ResolvedInstance>()
        {
            let _ = slot.0.set(instance.clone());
        }
        Ok(Tenant {
            instance,
            _dialect: PhantomData,
        })
    }
}

/// Reads the selector leniently: other query parameters belong to the handler.
fn parse_selector(query: &str) -> InstanceSelector {
    let mut sel = InstanceSelector {
        id: None,
        domain: None,
    };
    for (k, v) in form_urlencoded_pairs(query) {
        match k.as_str() {
            "instance.id" => sel.id = Some(v),
            "instance.domain" => sel.domain = Some(v),
            _ => {}
        }
    }
    sel
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}
