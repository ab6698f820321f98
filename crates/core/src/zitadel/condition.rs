//! When an execution applies: a request or response of a gRPC method / service / any call, a
//! function (`preuserinfo`, ...) or an event / event group / any event. A [`Condition`] has a
//! stable string key (used as the execution's id and storage key) and knows which less specific
//! conditions also cover it, which is what best-match resolution walks.

use crate::ValidationError;
use std::fmt;

/// Scope of a request/response condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MethodSelector {
    /// A full method, `/zitadel.user.v2.UserService/AddHumanUser`.
    Method(String),
    /// A service, `zitadel.user.v2.UserService`.
    Service(String),
    All,
}

/// Scope of an event condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventSelector {
    /// One event type, `user.human.added`.
    Event(String),
    /// A group of event types sharing a dotted prefix, `user.human`.
    Group(String),
    All,
}

/// The condition of an execution; exactly one kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    Request(MethodSelector),
    Response(MethodSelector),
    Function(String),
    Event(EventSelector),
}

/// The four condition kinds (the SDK's `ExecutionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionType {
    Request,
    Response,
    Event,
    Function,
}

impl ExecutionType {
    /// Parses the proto enum name; `EXECUTION_TYPE_UNSPECIFIED` is `None` (no filtering).
    pub fn parse(s: &str) -> Result<Option<Self>, ValidationError> {
        match s {
            "EXECUTION_TYPE_UNSPECIFIED" => Ok(None),
            "EXECUTION_TYPE_REQUEST" => Ok(Some(Self::Request)),
            "EXECUTION_TYPE_RESPONSE" => Ok(Some(Self::Response)),
            "EXECUTION_TYPE_EVENT" => Ok(Some(Self::Event)),
            "EXECUTION_TYPE_FUNCTION" => Ok(Some(Self::Function)),
            other => Err(ValidationError::new(
                "executionType",
                format!("'{other}' is not one of EXECUTION_TYPE_REQUEST, EXECUTION_TYPE_RESPONSE, EXECUTION_TYPE_EVENT, EXECUTION_TYPE_FUNCTION"),
            )),
        }
    }
}

fn non_empty(field: &str, v: &str) -> Result<String, ValidationError> {
    if v.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if v.chars().count() > 1000 {
        return Err(ValidationError::new(
            field,
            "must be at most 1000 characters",
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_string())
}

impl MethodSelector {
    /// Builds the selector from the wire's oneof `{method | service | all}`; field names are
    /// relative (the caller prefixes `condition.request`).
    pub fn from_oneof(
        method: Option<&str>,
        service: Option<&str>,
        all: Option<bool>,
    ) -> Result<Self, ValidationError> {
        let count = usize::from(method.is_some())
            + usize::from(service.is_some())
            + usize::from(all.is_some());
        if count != 1 {
            return Err(ValidationError::new(
                "",
                "exactly one of method, service or all must be set",
            ));
        }
        if let Some(m) = method {
            let m = non_empty("method", m)?;
            let ok = m.starts_with('/')
                && m[1..]
                    .split_once('/')
                    .is_some_and(|(s, n)| !s.is_empty() && !n.is_empty() && !n.contains('/'));
            if !ok {
                return Err(ValidationError::new(
                    "method",
                    "must be a full gRPC method such as /zitadel.user.v2.UserService/AddHumanUser",
                ));
            }
            return Ok(Self::Method(m));
        }
        if let Some(s) = service {
            let s = non_empty("service", s)?;
            if s.contains('/') {
                return Err(ValidationError::new(
                    "service",
                    "must be a gRPC service such as zitadel.user.v2.UserService",
                ));
            }
            return Ok(Self::Service(s));
        }
        if all == Some(true) {
            Ok(Self::All)
        } else {
            Err(ValidationError::new("all", "must be true when set"))
        }
    }
}

impl EventSelector {
    /// Builds the selector from the wire's oneof `{event | group | all}`.
    pub fn from_oneof(
        event: Option<&str>,
        group: Option<&str>,
        all: Option<bool>,
    ) -> Result<Self, ValidationError> {
        let count = usize::from(event.is_some())
            + usize::from(group.is_some())
            + usize::from(all.is_some());
        if count != 1 {
            return Err(ValidationError::new(
                "",
                "exactly one of event, group or all must be set",
            ));
        }
        if let Some(e) = event {
            return Ok(Self::Event(non_empty("event", e)?));
        }
        if let Some(g) = group {
            let g = non_empty("group", g)?;
            return Ok(Self::Group(
                g.trim_end_matches(".*").trim_end_matches('.').to_string(),
            ));
        }
        if all == Some(true) {
            Ok(Self::All)
        } else {
            Err(ValidationError::new("all", "must be true when set"))
        }
    }
}

impl Condition {
    /// Validates a function name.
    pub fn function(name: &str) -> Result<Self, ValidationError> {
        Ok(Self::Function(non_empty("name", name)?))
    }

    pub fn execution_type(&self) -> ExecutionType {
        match self {
            Condition::Request(_) => ExecutionType::Request,
            Condition::Response(_) => ExecutionType::Response,
            Condition::Function(_) => ExecutionType::Function,
            Condition::Event(_) => ExecutionType::Event,
        }
    }

    /// Stable key: `request:method:/a.B/C`, `request:service:a.B`, `request:all`,
    /// `response:...`, `function:preuserinfo`, `event:event:user.human.added`,
    /// `event:group:user.human`, `event:all`.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// Inverse of [`Self::key`].
    pub fn from_key(key: &str) -> Option<Self> {
        let method = |rest: &str| -> Option<MethodSelector> {
            match rest.split_once(':') {
                Some(("method", m)) => Some(MethodSelector::Method(m.to_string())),
                Some(("service", s)) => Some(MethodSelector::Service(s.to_string())),
                None if rest == "all" => Some(MethodSelector::All),
                _ => None,
            }
        };
        let (kind, rest) = key.split_once(':').unwrap_or((key, ""));
        match kind {
            "request" => method(rest).map(Condition::Request),
            "response" => method(rest).map(Condition::Response),
            "function" if !rest.is_empty() => Some(Condition::Function(rest.to_string())),
            "event" => match rest.split_once(':') {
                Some(("event", e)) => Some(Condition::Event(EventSelector::Event(e.to_string()))),
                Some(("group", g)) => Some(Condition::Event(EventSelector::Group(g.to_string()))),
                None if rest == "all" => Some(Condition::Event(EventSelector::All)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The conditions that cover `self`, most specific first: the condition itself, then
    /// (method →) service → all for calls, event → groups (longest first) → all for events.
    /// Functions have no wider condition.
    pub fn candidates(&self) -> Vec<Condition> {
        fn methods(sel: &MethodSelector, wrap: fn(MethodSelector) -> Condition) -> Vec<Condition> {
            let mut out = vec![wrap(sel.clone())];
            if let MethodSelector::Method(m) = sel {
                if let Some((service, _)) = m.trim_start_matches('/').split_once('/') {
                    out.push(wrap(MethodSelector::Service(service.to_string())));
                }
            }
            if *sel != MethodSelector::All {
                out.push(wrap(MethodSelector::All));
            }
            out
        }
        match self {
            Condition::Request(sel) => methods(sel, Condition::Request),
            Condition::Response(sel) => methods(sel, Condition::Response),
            Condition::Function(_) => vec![self.clone()],
            Condition::Event(sel) => {
                let mut out = vec![self.clone()];
                let base = match sel {
                    EventSelector::Event(e) => Some(e.as_str()),
                    EventSelector::Group(g) => Some(g.as_str()),
                    EventSelector::All => None,
                };
                if let Some(mut name) = base {
                    while let Some((prefix, _)) = name.rsplit_once('.') {
                        out.push(Condition::Event(EventSelector::Group(prefix.to_string())));
                        name = prefix;
                    }
                    out.push(Condition::Event(EventSelector::All));
                }
                out
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = |f: &mut fmt::Formatter<'_>, kind: &str, sel: &MethodSelector| match sel {
            MethodSelector::Method(m) => write!(f, "{kind}:method:{m}"),
            MethodSelector::Service(s) => write!(f, "{kind}:service:{s}"),
            MethodSelector::All => write!(f, "{kind}:all"),
        };
        match self {
            Condition::Request(sel) => method(f, "request", sel),
            Condition::Response(sel) => method(f, "response", sel),
            Condition::Function(n) => write!(f, "function:{n}"),
            Condition::Event(EventSelector::Event(e)) => write!(f, "event:event:{e}"),
            Condition::Event(EventSelector::Group(g)) => write!(f, "event:group:{g}"),
            Condition::Event(EventSelector::All) => write!(f, "event:all"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let all = [
            Condition::Request(MethodSelector::Method(
                "/zitadel.user.v2.UserService/AddHumanUser".into(),
            )),
            Condition::Request(MethodSelector::Service(
                "zitadel.user.v2.UserService".into(),
            )),
            Condition::Response(MethodSelector::All),
            Condition::Function("preuserinfo".into()),
            Condition::Event(EventSelector::Event("user.human.added".into())),
            Condition::Event(EventSelector::Group("user.human".into())),
            Condition::Event(EventSelector::All),
        ];
        for c in all {
            assert_eq!(Condition::from_key(&c.key()), Some(c.clone()), "{c}");
        }
        assert_eq!(Condition::from_key("nonsense"), None);
        assert_eq!(Condition::from_key("function:"), None);
    }

    #[test]
    fn selectors_need_exactly_one_field() {
        assert!(MethodSelector::from_oneof(None, None, None).is_err());
        assert!(MethodSelector::from_oneof(Some("/a.B/C"), Some("a.B"), None).is_err());
        assert_eq!(
            MethodSelector::from_oneof(None, None, Some(false))
                .unwrap_err()
                .field,
            "all"
        );
        assert_eq!(
            MethodSelector::from_oneof(Some("a.B/C"), None, None)
                .unwrap_err()
                .field,
            "method"
        );
        assert_eq!(
            MethodSelector::from_oneof(None, Some("a/B"), None)
                .unwrap_err()
                .field,
            "service"
        );
        assert_eq!(
            EventSelector::from_oneof(None, Some("user.human"), None).unwrap(),
            EventSelector::Group("user.human".into())
        );
        assert!(EventSelector::from_oneof(Some(""), None, None).is_err());
    }

    #[test]
    fn candidates_go_from_specific_to_general() {
        let c = Condition::Request(MethodSelector::Method(
            "/zitadel.user.v2.UserService/AddHumanUser".into(),
        ));
        assert_eq!(
            c.candidates()
                .iter()
                .map(Condition::key)
                .collect::<Vec<_>>(),
            vec![
                "request:method:/zitadel.user.v2.UserService/AddHumanUser",
                "request:service:zitadel.user.v2.UserService",
                "request:all"
            ]
        );
        let e = Condition::Event(EventSelector::Event("user.human.added".into()));
        assert_eq!(
            e.candidates()
                .iter()
                .map(Condition::key)
                .collect::<Vec<_>>(),
            vec![
                "event:event:user.human.added",
                "event:group:user.human",
                "event:group:user",
                "event:all"
            ]
        );
        assert_eq!(
            Condition::Function("preuserinfo".into()).candidates().len(),
            1
        );
        assert_eq!(Condition::Event(EventSelector::All).candidates().len(), 1);
    }
}
