//! What a request path means to authentication: which dialect answers its errors
//! ([`dialect_for`]), which scope it needs ([`required_scope`], `None` for the few public routes)
//! and which rate limit applies ([`rate_class`]). Pure tables over the path's segments, decided
//! before routing so that even routes this build does not know get a correct 401/403.

use crate::dialect::{Connect, Dialect, Native, SailPoint, ZitadelRest};
use crate::error::ApiError;
use axum::http::Method;
use axum::response::Response;
use switchyard_core::auth::Scope;

/// The error dialect of a path (a value, so it can be chosen at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectKind {
    Connect,
    ZitadelRest,
    SailPoint,
    Native,
}

impl DialectKind {
    /// Renders `err` in this dialect's shape.
    pub fn render(self, err: ApiError) -> Response {
        match self {
            DialectKind::Connect => Connect::render(err),
            DialectKind::ZitadelRest => ZitadelRest::render(err),
            DialectKind::SailPoint => SailPoint::render(err),
            DialectKind::Native => Native::render(err),
        }
    }
}

/// The dialect whose error shape a client of `path` expects.
pub fn dialect_for(path: &str) -> DialectKind {
    if path.starts_with("/zitadel.") {
        DialectKind::Connect
    } else if path.starts_with("/resources/") || path.starts_with("/v2/") {
        DialectKind::ZitadelRest
    } else if [
        "/triggers",
        "/trigger-subscriptions",
        "/trigger-invocations",
        "/beta/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
    {
        DialectKind::SailPoint
    } else {
        DialectKind::Native
    }
}

/// Which rate limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    /// Configuration and inspection APIs (every dialect).
    Management,
    /// The native producer API, limited only when an operator asks.
    Producer,
}

/// The producer API is `/v1/events`, `/v1/invocations` and `/v1/calls`; everything else is
/// management.
pub fn rate_class(path: &str) -> RateClass {
    match segments(path).as_slice() {
        ["v1", "events" | "invocations" | "calls", ..] => RateClass::Producer,
        _ => RateClass::Management,
    }
}

/// The scope a request needs, or `None` for a public route (health, OpenAPI, the token endpoint
/// and invocation-complete callbacks, which carry their own secret). Unknown paths need `admin`:
/// deny by default.
pub fn required_scope(method: &Method, path: &str) -> Option<Scope> {
    let segs = segments(path);
    let read = is_read(method, &segs);
    let pick = |r: Scope, w: Scope| Some(if read { r } else { w });
    use Scope::*;
    match segs.as_slice() {
        [] => Some(Admin),
        ["healthz" | "readyz" | "openapi.json"] => None,
        ["oauth", "token"] => None,
        ["trigger-invocations", "v1", _, "complete"] => None,
        ["beta", "trigger-invocations", _, "complete"] => None,

        // ZITADEL: v3alpha resources and v2 REST.
        ["resources", "v3alpha", "actions", "targets", ..] | ["v2", "actions", "targets", ..] => {
            pick(TargetsRead, TargetsWrite)
        }
        ["resources", "v3alpha", "actions", "executions", ..]
        | ["v2", "actions", "executions", ..] => pick(TargetsRead, TargetsWrite),
        // ZITADEL Connect: `/zitadel.action.<version>.ActionService/<Method>`.
        [service, method_name]
            if service.starts_with("zitadel.action.") && service.ends_with(".ActionService") =>
        {
            connect_scope(method_name)
        }

        // SailPoint (current and /beta paths).
        ["triggers", "v1", ..] | ["beta", "triggers", ..] if *method == Method::GET => {
            Some(TriggersRead)
        }
        ["trigger-subscriptions", "v1", ..] | ["beta", "trigger-subscriptions", ..] => {
            if segs.last() == Some(&"validate-filter") {
                Some(SubscriptionsRead)
            } else {
                pick(SubscriptionsRead, SubscriptionsWrite)
            }
        }
        ["trigger-invocations", "v1", "start" | "test"]
        | ["beta", "trigger-invocations", "start" | "test"] => Some(InvocationsStart),
        ["trigger-invocations", "v1", "status"] | ["beta", "trigger-invocations", "status"] => {
            Some(InvocationsRead)
        }

        // Native API.
        ["v1", "triggers", ..] => pick(TriggersRead, TriggersWrite),
        // Reading a signing secret is as privileged as setting one.
        ["v1", "subscriptions", _, "secret", ..] => Some(SubscriptionsWrite),
        ["v1", "subscriptions", ..] => pick(SubscriptionsRead, SubscriptionsWrite),
        ["v1", "events"] if *method == Method::POST => Some(EventsPublish),
        ["v1", "invocations"] | ["v1", "invocations", _, "replay"] if *method == Method::POST => {
            Some(InvocationsStart)
        }
        ["v1", "invocations", ..] if *method == Method::GET => Some(InvocationsRead),
        ["v1", "calls"] if *method == Method::POST => Some(InvocationsStart),
        ["v1", "calls", _] if *method == Method::GET => Some(InvocationsRead),
        ["v1", "targets", _, "health"] if *method == Method::GET => Some(TargetsRead),
        ["metrics"] => Some(Admin),
        _ => Some(Admin),
    }
}

fn connect_scope(method_name: &str) -> Option<Scope> {
    match method_name {
        "CreateTarget" | "UpdateTarget" | "DeleteTarget" | "SetExecution" => {
            Some(Scope::TargetsWrite)
        }
        "GetTarget"
        | "ListTargets"
        | "ListExecutions"
        | "ListExecutionFunctions"
        | "ListExecutionMethods"
        | "ListExecutionServices" => Some(Scope::TargetsRead),
        _ => Some(Scope::Admin),
    }
}

/// GET/HEAD, and the POST search endpoints (`_search`, `search`), only read.
fn is_read(method: &Method, segs: &[&str]) -> bool {
    *method == Method::GET
        || *method == Method::HEAD
        || (*method == Method::POST && matches!(segs.last(), Some(&"_search") | Some(&"search")))
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scope::*;

    fn scope(m: Method, p: &str) -> Option<Scope> {
        required_scope(&m, p)
    }

    #[test]
    fn dialects_follow_the_path() {
        assert_eq!(
            dialect_for("/zitadel.action.v2.ActionService/ListTargets"),
            DialectKind::Connect
        );
        assert_eq!(
            dialect_for("/resources/v3alpha/actions/targets"),
            DialectKind::ZitadelRest
        );
        assert_eq!(
            dialect_for("/v2/actions/targets/search"),
            DialectKind::ZitadelRest
        );
        assert_eq!(dialect_for("/triggers/v1"), DialectKind::SailPoint);
        assert_eq!(
            dialect_for("/trigger-subscriptions/v1/x"),
            DialectKind::SailPoint
        );
        assert_eq!(
            dialect_for("/trigger-invocations/v1/status"),
            DialectKind::SailPoint
        );
        assert_eq!(dialect_for("/beta/triggers"), DialectKind::SailPoint);
        assert_eq!(dialect_for("/v1/events"), DialectKind::Native);
        assert_eq!(dialect_for("/metrics"), DialectKind::Native);
        assert_eq!(dialect_for("/nothing"), DialectKind::Native);
    }

    #[test]
    fn public_routes_need_no_token() {
        for p in [
            "/healthz",
            "/readyz",
            "/openapi.json",
            "/oauth/token",
            "/trigger-invocations/v1/abc/complete",
            "/beta/trigger-invocations/abc/complete",
        ] {
            assert_eq!(scope(Method::GET, p), None, "{p}");
            assert_eq!(scope(Method::POST, p), None, "{p}");
        }
        // Only the exact shapes are public.
        assert_eq!(
            scope(Method::POST, "/trigger-invocations/v1/a/b/complete"),
            Some(Admin)
        );
        assert_eq!(scope(Method::GET, "/healthz/x"), Some(Admin));
    }

    #[test]
    fn zitadel_rest_targets_and_executions() {
        for base in ["/resources/v3alpha/actions", "/v2/actions"] {
            let t = format!("{base}/targets");
            assert_eq!(scope(Method::POST, &t), Some(TargetsWrite));
            assert_eq!(scope(Method::GET, &format!("{t}/123")), Some(TargetsRead));
            assert_eq!(
                scope(Method::PATCH, &format!("{t}/123")),
                Some(TargetsWrite)
            );
            assert_eq!(scope(Method::POST, &format!("{t}/123")), Some(TargetsWrite));
            assert_eq!(
                scope(Method::DELETE, &format!("{t}/123")),
                Some(TargetsWrite)
            );
            assert_eq!(
                scope(Method::POST, &format!("{t}/_search")),
                Some(TargetsRead)
            );
            assert_eq!(
                scope(Method::POST, &format!("{t}/search")),
                Some(TargetsRead)
            );
            let e = format!("{base}/executions");
            assert_eq!(scope(Method::PUT, &e), Some(TargetsWrite));
            assert_eq!(
                scope(Method::POST, &format!("{e}/_search")),
                Some(TargetsRead)
            );
            assert_eq!(
                scope(Method::POST, &format!("{e}/search")),
                Some(TargetsRead)
            );
            for f in ["functions", "methods", "services"] {
                assert_eq!(scope(Method::GET, &format!("{e}/{f}")), Some(TargetsRead));
            }
        }
    }

    #[test]
    fn zitadel_connect_methods() {
        let p = |m: &str| format!("/zitadel.action.v2.ActionService/{m}");
        for m in [
            "CreateTarget",
            "UpdateTarget",
            "DeleteTarget",
            "SetExecution",
        ] {
            assert_eq!(scope(Method::POST, &p(m)), Some(TargetsWrite), "{m}");
        }
        for m in [
            "GetTarget",
            "ListTargets",
            "ListExecutions",
            "ListExecutionFunctions",
            "ListExecutionMethods",
            "ListExecutionServices",
        ] {
            assert_eq!(scope(Method::POST, &p(m)), Some(TargetsRead), "{m}");
        }
        assert_eq!(scope(Method::POST, &p("DropEverything")), Some(Admin));
        assert_eq!(
            scope(Method::POST, "/zitadel.user.v2.UserService/GetUser"),
            Some(Admin)
        );
    }

    #[test]
    fn sailpoint_routes() {
        for base in ["/triggers/v1", "/beta/triggers"] {
            assert_eq!(scope(Method::GET, base), Some(TriggersRead));
            assert_eq!(scope(Method::POST, base), Some(Admin));
        }
        for base in ["/trigger-subscriptions/v1", "/beta/trigger-subscriptions"] {
            assert_eq!(scope(Method::GET, base), Some(SubscriptionsRead));
            assert_eq!(scope(Method::POST, base), Some(SubscriptionsWrite));
            assert_eq!(
                scope(Method::PUT, &format!("{base}/s1")),
                Some(SubscriptionsWrite)
            );
            assert_eq!(
                scope(Method::PATCH, &format!("{base}/s1")),
                Some(SubscriptionsWrite)
            );
            assert_eq!(
                scope(Method::DELETE, &format!("{base}/s1")),
                Some(SubscriptionsWrite)
            );
            assert_eq!(
                scope(Method::POST, &format!("{base}/validate-filter")),
                Some(SubscriptionsRead)
            );
        }
        for base in ["/trigger-invocations/v1", "/beta/trigger-invocations"] {
            assert_eq!(
                scope(Method::POST, &format!("{base}/start")),
                Some(InvocationsStart)
            );
            assert_eq!(
                scope(Method::POST, &format!("{base}/test")),
                Some(InvocationsStart)
            );
            assert_eq!(
                scope(Method::GET, &format!("{base}/status")),
                Some(InvocationsRead)
            );
        }
    }

    #[test]
    fn native_routes() {
        assert_eq!(scope(Method::GET, "/v1/triggers"), Some(TriggersRead));
        assert_eq!(scope(Method::POST, "/v1/triggers"), Some(TriggersWrite));
        assert_eq!(
            scope(Method::DELETE, "/v1/triggers/t1"),
            Some(TriggersWrite)
        );
        assert_eq!(
            scope(Method::GET, "/v1/subscriptions/s1/secret"),
            Some(SubscriptionsWrite)
        );
        assert_eq!(
            scope(Method::POST, "/v1/subscriptions/s1/secret/rotate"),
            Some(SubscriptionsWrite)
        );
        assert_eq!(
            scope(Method::GET, "/v1/subscriptions/s1"),
            Some(SubscriptionsRead)
        );
        assert_eq!(scope(Method::POST, "/v1/events"), Some(EventsPublish));
        assert_eq!(scope(Method::GET, "/v1/events"), Some(Admin));
        assert_eq!(
            scope(Method::POST, "/v1/invocations"),
            Some(InvocationsStart)
        );
        assert_eq!(
            scope(Method::POST, "/v1/invocations/i1/replay"),
            Some(InvocationsStart)
        );
        assert_eq!(
            scope(Method::GET, "/v1/invocations/i1"),
            Some(InvocationsRead)
        );
        assert_eq!(scope(Method::DELETE, "/v1/invocations/i1"), Some(Admin));
        assert_eq!(scope(Method::POST, "/v1/calls"), Some(InvocationsStart));
        assert_eq!(scope(Method::GET, "/v1/calls/c1"), Some(InvocationsRead));
        assert_eq!(scope(Method::DELETE, "/v1/calls/c1"), Some(Admin));
        assert_eq!(
            scope(Method::GET, "/v1/targets/t1/health"),
            Some(TargetsRead)
        );
        assert_eq!(scope(Method::POST, "/v1/targets/t1/health"), Some(Admin));
        assert_eq!(scope(Method::GET, "/v1/targets/t1"), Some(Admin));
        assert_eq!(scope(Method::GET, "/metrics"), Some(Admin));
        assert_eq!(scope(Method::GET, "/v1/whoami"), Some(Admin));
        assert_eq!(scope(Method::GET, "/"), Some(Admin));
        assert_eq!(scope(Method::GET, "/v1/anything-new"), Some(Admin));
    }

    #[test]
    fn producer_paths_have_their_own_limit() {
        assert_eq!(rate_class("/v1/events"), RateClass::Producer);
        assert_eq!(rate_class("/v1/invocations/x/replay"), RateClass::Producer);
        assert_eq!(rate_class("/v1/calls"), RateClass::Producer);
        assert_eq!(rate_class("/v1/triggers"), RateClass::Management);
        assert_eq!(
            rate_class("/trigger-invocations/v1/start"),
            RateClass::Management
        );
        assert_eq!(rate_class("/metrics"), RateClass::Management);
    }
}
