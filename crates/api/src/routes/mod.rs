//! Route rules beside the route. Every route is registered through [`Routes::add`] together with
//! its [`Rule`]: who may call it (a scope, or public), which rate limit it counts against and
//! which caches a successful call invalidates; the group it is added to names its error dialect.
//! A route therefore cannot exist without its rules, and no path-string table has to be kept in
//! step with the router. The same rules drive three things at once:
//! - the per-route guard ([`guard`]): authentication, rate limit, scope, cache invalidation;
//! - the OpenAPI document ([`document`]): `security`, `x-switchyard-*` extensions, a unique
//!   `operationId` and every error status the guard and the extractors can answer, each with the
//!   dialect's error schema;
//! - the route table tests enumerate.
//!
//! Requests no route matches (unknown paths, unsupported methods) are denied by default in
//! `fallback`: they need `admin` before they learn that nothing is there.

mod document;
pub use document::{BEARER, OAUTH2};
mod guard;

use crate::dialect::DialectKind;
use crate::state::AppState;
use axum::http::Method;
use axum::Router;
use switchyard_core::auth::Scope;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

pub use guard::ResolvedInstance;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token: health, the OpenAPI document, the token endpoint, and invocation callbacks
    /// (which carry their own secret).
    Public,
    /// A bearer token whose scopes allow this one.
    Scope(Scope),
}

/// Which rate limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// Configuration and inspection APIs (every dialect).
    Management,
    /// The native producer API, limited only when an operator asks.
    Producer,
}

impl RateClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RateClass::Management => "management",
            RateClass::Producer => "producer",
        }
    }
}

/// What a successful call makes stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidates {
    Nothing,
    /// The instance's cached routing plans and call chains (targets, executions, triggers,
    /// subscriptions and their secrets changed).
    Routes,
}

/// A route's rules, declared where the route is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub access: Access,
    pub rate: RateClass,
    pub invalidates: Invalidates,
}

impl Rule {
    /// A management route needing `scope`.
    pub const fn scope(scope: Scope) -> Rule {
        Rule {
            access: Access::Scope(scope),
            rate: RateClass::Management,
            invalidates: Invalidates::Nothing,
        }
    }

    /// A route anyone may call (it authenticates its caller itself, or needs no caller).
    pub const fn public() -> Rule {
        Rule {
            access: Access::Public,
            rate: RateClass::Management,
            invalidates: Invalidates::Nothing,
        }
    }

    /// Counts against the producer limit instead of the management one.
    pub const fn producer(self) -> Rule {
        Rule {
            rate: RateClass::Producer,
            ..self
        }
    }

    /// A successful call changes routes: the instance's route caches are dropped after it.
    pub const fn changes_routes(self) -> Rule {
        Rule {
            invalidates: Invalidates::Routes,
            ..self
        }
    }

    /// The scope's wire name, or `public`.
    pub fn scope_name(&self) -> &'static str {
        match self.access {
            Access::Public => "public",
            Access::Scope(s) => s.as_str(),
        }
    }
}

/// One registered route: its method and path template, its rules, and the handler with its
/// OpenAPI description.
pub struct Route {
    pub method: Method,
    pub path: String,
    pub dialect: DialectKind,
    pub rule: Rule,
    handler: UtoipaMethodRouter<AppState>,
}

/// Routes of one surface (one dialect, one `operationId` prefix), mergeable with others.
pub struct Routes {
    dialect: DialectKind,
    operation_prefix: &'static str,
    routes: Vec<Route>,
}

impl Routes {
    /// A group answering errors in `dialect`; its operation ids are `<operation_prefix>_<fn>`.
    pub fn new(dialect: DialectKind, operation_prefix: &'static str) -> Self {
        Self {
            dialect,
            operation_prefix,
            routes: Vec::new(),
        }
    }

    /// Registers one handler (one method on one path: `routes!(handler)`) with its rules.
    ///
    /// # Panics
    /// When `handler` holds more or fewer than one operation, so every operation has its own
    /// rules (a programming error, caught by any test that builds the router).
    pub fn add(mut self, rule: Rule, handler: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, mut paths, method_router) = handler;
        assert_eq!(paths.paths.len(), 1, "one path per route");
        let (path, item) = paths.paths.iter_mut().next().expect("one path");
        let path = path.clone();
        let (method, op) = single_operation(item)
            .unwrap_or_else(|| panic!("{path}: register exactly one handler per route"));
        document::document(op, rule, self.dialect, self.operation_prefix);
        self.routes.push(Route {
            method,
            path,
            dialect: self.dialect,
            rule,
            handler: (schemas, paths, method_router),
        });
        self
    }

    /// Adds every route of `other` (which keeps its own dialect and operation ids).
    pub fn merge(mut self, other: Routes) -> Self {
        self.routes.extend(other.routes);
        self
    }

    /// The registered routes, for tests and tools.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// The OpenAPI document of these routes on top of `base`.
    pub fn openapi(self, base: OpenApi) -> OpenApi {
        self.check_schema_names();
        self.routes
            .into_iter()
            .fold(OpenApiRouter::with_openapi(base), |api, r| {
                api.routes(r.handler)
            })
            .into_openapi()
    }

    /// The router, every route behind its guard, and the OpenAPI document on top of `base`.
    pub fn into_router(self, state: &AppState, base: OpenApi) -> (Router<AppState>, OpenApi) {
        self.check_schema_names();
        let mut api = OpenApiRouter::with_openapi(base);
        for r in self.routes {
            let (schemas, paths, method_router) = r.handler;
            let guarded = guard::layer(method_router, state, r.rule, r.dialect);
            api = api.routes((schemas, paths, guarded));
        }
        api.split_for_parts()
    }
}

impl Routes {
    /// Two wire types with one component name would silently replace each other's schema in
    /// the document (v2's and v3alpha's `GetTargetResponse` once did).
    ///
    /// # Panics
    /// When two different schemas share a name (a programming error any test catches).
    fn check_schema_names(&self) {
        let mut seen = std::collections::HashMap::new();
        for r in &self.routes {
            for (name, schema) in &r.handler.0 {
                if let Some(other) = seen.insert(name.as_str(), schema) {
                    assert!(
                        other == schema,
                        "two different schemas are named '{name}': rename one with #[schema(as = ...)]"
                    );
                }
            }
        }
    }
}

/// The only operation of `item` and its method, or `None` when there are several or none.
fn single_operation(item: &mut PathItem) -> Option<(Method, &mut Operation)> {
    let slots = [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::OPTIONS, &mut item.options),
        (Method::HEAD, &mut item.head),
        (Method::PATCH, &mut item.patch),
        (Method::TRACE, &mut item.trace),
    ];
    let mut found = None;
    for (method, slot) in slots {
        if let Some(op) = slot.as_mut() {
            if found.is_some() {
                return None;
            }
            found = Some((method, op));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::dialect::DialectKind;
    use std::collections::HashSet;

    #[test]
    fn every_route_speaks_the_dialect_of_its_surface() {
        // Unknown paths under a surface are answered in `for_path`'s dialect; the routes there
        // must agree, or a typo would change the error shape a client sees.
        for r in crate::all_routes().iter() {
            assert_eq!(
                r.dialect,
                DialectKind::for_path(&r.path),
                "{} {}",
                r.method,
                r.path
            );
        }
    }

    #[test]
    fn every_operation_has_a_unique_id_and_an_explicit_scope() {
        let routes = crate::all_routes();
        let declared: HashSet<(String, String, &str)> = routes
            .iter()
            .map(|r| {
                (
                    r.method.as_str().to_ascii_lowercase(),
                    r.path.clone(),
                    r.rule.scope_name(),
                )
            })
            .collect();
        let doc = serde_json::to_value(crate::openapi()).unwrap();
        let mut ids = HashSet::new();
        let mut seen = HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
                let scope = op["x-switchyard-scope"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{method} {path} has no scope"));
                let security = op["security"].as_array().expect("explicit security");
                if scope == "public" {
                    assert!(security.is_empty(), "{method} {path}");
                } else {
                    assert_eq!(security[0]["bearer"][0], scope, "{method} {path}");
                    for status in ["401", "403", "429", "503"] {
                        assert!(
                            op["responses"][status]["content"]["application/json"].is_object(),
                            "{method} {path} lacks {status}"
                        );
                    }
                }
                let s = declared
                    .iter()
                    .find(|(m, p, _)| m == method && p == path)
                    .unwrap_or_else(|| panic!("{method} {path} not declared"));
                assert_eq!(s.2, scope);
                seen.insert((method.clone(), path.clone()));
            }
        }
        assert_eq!(
            seen.len(),
            declared.len(),
            "every declared route is documented"
        );
    }
}
