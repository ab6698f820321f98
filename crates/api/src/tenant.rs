//! Which instance a request acts on. Authenticated requests act on the instance their token is
//! bound to. `instance.id` / `instance.domain` in the query may choose another instance only for
//! `system` tokens; any other token naming a foreign instance gets 404, never 403, so a caller
//! learns nothing about instances it cannot see. Naming its own instance is fine.
//!
//! Public routes (which carry no token, such as the invocation-complete callback, authenticated
//! by its own secret) have no [`Principal`]; there the query selects the instance and the default
//! instance applies without one.

use crate::auth::Principal;
use crate::dialect::Dialect;
use crate::error::{ApiError, Failure};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;
use switchyard_core::InstanceId;

/// The instance the request acts on, resolved before the handler runs.
pub struct Tenant<D> {
    pub instance: InstanceId,
    _dialect: PhantomData<D>,
}

struct InstanceSelector {
    id: Option<String>,
    domain: Option<String>,
}

impl<D: Dialect> FromRequestParts<AppState> for Tenant<D> {
    type Rejection = Failure<D>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let sel = parse_selector(parts.uri.query().unwrap_or(""));
        let principal = parts.extensions.get::<Principal>();
        let instance = match (
            sel.id.filter(|s| !s.is_empty()),
            sel.domain.filter(|s| !s.is_empty()),
        ) {
            (Some(id), _) => {
                let named = InstanceId::parse(&id)?;
                allowed(principal, named, || format!("instance '{id}' not found"))?
            }
            (None, Some(domain)) => {
                let not_found = || format!("no instance has the domain '{domain}'");
                let named = state
                    .store
                    .instance_by_domain(&domain)
                    .await?
                    .ok_or_else(|| ApiError::not_found(not_found()))?;
                allowed(principal, named, not_found)?
            }
            (None, None) => match principal {
                Some(p) => p.instance.clone(),
                None => InstanceId::default_instance(),
            },
        };
        if let Some(slot) = parts.extensions.get::<crate::routes::ResolvedInstance>() {
            let _ = slot.0.set(instance.clone());
        }
        Ok(Tenant {
            instance,
            _dialect: PhantomData,
        })
    }
}

/// `named` if the caller may act on it; otherwise the same 404 an unknown instance gets.
fn allowed(
    principal: Option<&Principal>,
    named: InstanceId,
    not_found: impl FnOnce() -> String,
) -> Result<InstanceId, ApiError> {
    match principal {
        None => Ok(named),
        Some(p) if p.scopes.is_system() || p.instance == named => Ok(named),
        Some(_) => Err(ApiError::not_found(not_found())),
    }
}

/// Reads the selector leniently: other query parameters belong to the handler.
fn parse_selector(query: &str) -> InstanceSelector {
    let mut sel = InstanceSelector {
        id: None,
        domain: None,
    };
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default() {
        match k.as_str() {
            "instance.id" => sel.id = Some(v),
            "instance.domain" => sel.domain = Some(v),
            _ => {}
        }
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::auth::{Scope, Scopes};

    fn p(instance: &str, scope: Scope) -> Principal {
        Principal {
            subject: "s".into(),
            instance: InstanceId::parse(instance).unwrap(),
            scopes: Scopes::default().with(scope),
            client: None,
        }
    }

    fn id(s: &str) -> InstanceId {
        InstanceId::parse(s).unwrap()
    }

    #[test]
    fn only_system_tokens_choose_other_instances() {
        let nf = || "nope".to_string();
        assert_eq!(
            allowed(Some(&p("a", Scope::Admin)), id("a"), nf).unwrap(),
            id("a")
        );
        let e = allowed(Some(&p("a", Scope::Admin)), id("b"), nf).unwrap_err();
        assert_eq!(e.status().as_u16(), 404);
        assert_eq!(e.message, "nope");
        assert_eq!(
            allowed(Some(&p("a", Scope::System)), id("b"), nf).unwrap(),
            id("b")
        );
        assert_eq!(allowed(None, id("b"), nf).unwrap(), id("b"));
    }

    #[test]
    fn selector_reads_only_its_keys() {
        let s = parse_selector("limit=3&instance.id=x&instance.domain=d.example");
        assert_eq!(s.id.as_deref(), Some("x"));
        assert_eq!(s.domain.as_deref(), Some("d.example"));
        assert!(parse_selector("%%%").id.is_none());
    }
}
