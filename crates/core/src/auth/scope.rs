//! Scopes: what a token allows. A token's `scope` claim is a space-separated list; `admin` grants
//! every instance scope within the token's own instance and `system` additionally lets the caller
//! choose the instance per request. `metrics:read` is server-wide (the counters of every
//! instance), so an instance's `admin` does not imply it: only `system` does.

use crate::ValidationError;
use std::fmt;

/// One permission. The string forms are what tokens, clients and the CLI use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    TargetsRead,
    TargetsWrite,
    TriggersRead,
    TriggersWrite,
    SubscriptionsRead,
    SubscriptionsWrite,
    EventsPublish,
    InvocationsStart,
    InvocationsRead,
    /// The server's Prometheus metrics (every instance's counters): for an operator's scraper.
    MetricsRead,
    /// Every scope above but `metrics:read`, within the token's instance.
    Admin,
    /// `admin` in any instance the request names.
    System,
}

impl Scope {
    /// Every scope, in documentation order.
    pub const ALL: [Scope; 12] = [
        Scope::TargetsRead,
        Scope::TargetsWrite,
        Scope::TriggersRead,
        Scope::TriggersWrite,
        Scope::SubscriptionsRead,
        Scope::SubscriptionsWrite,
        Scope::EventsPublish,
        Scope::InvocationsStart,
        Scope::InvocationsRead,
        Scope::MetricsRead,
        Scope::Admin,
        Scope::System,
    ];

    /// The wire name, e.g. `targets:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::TargetsRead => "targets:read",
            Scope::TargetsWrite => "targets:write",
            Scope::TriggersRead => "triggers:read",
            Scope::TriggersWrite => "triggers:write",
            Scope::SubscriptionsRead => "subscriptions:read",
            Scope::SubscriptionsWrite => "subscriptions:write",
            Scope::EventsPublish => "events:publish",
            Scope::InvocationsStart => "invocations:start",
            Scope::InvocationsRead => "invocations:read",
            Scope::MetricsRead => "metrics:read",
            Scope::Admin => "admin",
            Scope::System => "system",
        }
    }

    /// The scope named `s`, if it is one of ours.
    pub fn from_name(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Scopes about the whole server rather than one instance: an instance's `admin` lacks them.
    pub fn is_server_wide(self) -> bool {
        matches!(self, Scope::System | Scope::MetricsRead)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes (a bit set: copying and checking it costs nothing on the request path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u16);

impl Scopes {
    /// Parses a space-separated list strictly: every entry must be a known scope and the list
    /// must not be empty. Used for what an operator types (CLI, client creation).
    pub fn parse(list: &str) -> Result<Scopes, ValidationError> {
        let mut set = Scopes::default();
        for name in list.split_whitespace() {
            let scope = Scope::from_name(name).ok_or_else(|| {
                ValidationError::new(
                    "scopes",
                    format!("unknown scope '{name}'; known scopes are: {}", all_names()),
                )
            })?;
            set = set.with(scope);
        }
        if set.is_empty() {
            return Err(ValidationError::new(
                "scopes",
                "must name at least one scope",
            ));
        }
        Ok(set)
    }

    /// Reads a token's `scope` claim leniently: identity providers add scopes of their own
    /// (`openid`, `profile`), which mean nothing here and are skipped.
    pub fn from_claim(claim: &str) -> Scopes {
        claim
            .split_whitespace()
            .filter_map(Scope::from_name)
            .fold(Scopes::default(), Scopes::with)
    }

    /// This set plus `scope`.
    pub fn with(self, scope: Scope) -> Scopes {
        Scopes(self.0 | scope.bit())
    }

    /// True when the set holds `scope` literally.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when a request needing `needed` is allowed: held directly, or implied by `admin`
    /// (every scope of its instance, so neither `system` nor the server-wide `metrics:read`) or
    /// `system` (everything).
    pub fn allows(self, needed: Scope) -> bool {
        if self.contains(needed) || self.contains(Scope::System) {
            return true;
        }
        !needed.is_server_wide() && self.contains(Scope::Admin)
    }

    /// True for `system` tokens, which may choose the instance per request.
    pub fn is_system(self) -> bool {
        self.contains(Scope::System)
    }
}

impl fmt::Display for Scopes {
    /// The space-separated form, as stored and as put into tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect();
        f.write_str(&names.join(" "))
    }
}

fn all_names() -> String {
    Scope::ALL.map(Scope::as_str).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::from_name(s.as_str()), Some(s));
        }
        assert_eq!(Scope::from_name("targets:delete"), None);
    }

    #[test]
    fn strict_parse_rejects_unknown_and_empty_lists() {
        let s = Scopes::parse("targets:read  events:publish").unwrap();
        assert!(s.contains(Scope::TargetsRead) && s.contains(Scope::EventsPublish));
        assert!(!s.contains(Scope::TargetsWrite));
        assert_eq!(s.to_string(), "targets:read events:publish");
        let e = Scopes::parse("targets:read openid").unwrap_err();
        assert_eq!(e.field, "scopes");
        assert!(e.rule.contains("'openid'"), "{}", e.rule);
        assert!(Scopes::parse("   ").is_err());
    }

    #[test]
    fn claims_skip_foreign_scopes() {
        let s = Scopes::from_claim("openid profile triggers:read");
        assert_eq!(s, Scopes::default().with(Scope::TriggersRead));
        assert!(Scopes::from_claim("").is_empty());
    }

    #[test]
    fn admin_implies_everything_but_system() {
        let admin = Scopes::default().with(Scope::Admin);
        assert!(admin.allows(Scope::TargetsWrite));
        assert!(admin.allows(Scope::Admin));
        assert!(!admin.allows(Scope::System));
        assert!(!admin.allows(Scope::MetricsRead));
        assert!(!admin.is_system());
        let scraper = Scopes::parse("metrics:read").unwrap();
        assert!(scraper.allows(Scope::MetricsRead) && !scraper.allows(Scope::Admin));
        let system = Scopes::default().with(Scope::System);
        assert!(system.allows(Scope::Admin) && system.allows(Scope::InvocationsRead));
        assert!(system.allows(Scope::MetricsRead));
        assert!(system.is_system());
        let reader = Scopes::default().with(Scope::TargetsRead);
        assert!(reader.allows(Scope::TargetsRead));
        assert!(!reader.allows(Scope::TargetsWrite));
        assert!(!reader.allows(Scope::Admin));
    }
}
