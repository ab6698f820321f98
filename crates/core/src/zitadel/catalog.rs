//! The names an execution condition may use: functions (`preuserinfo`, ...), gRPC services and
//! methods of ZITADEL's v2 API, and event types. Upstream rejects executions for methods and
//! services it does not serve; Switchyard does the same against this catalog, which ships with
//! ZITADEL's well-known names and can be extended (configuration, custom producers).

use super::condition::{Condition, EventSelector, MethodSelector};
use crate::ValidationError;
use std::collections::BTreeSet;

/// Where the error for an unknown event name sends the user: ZITADEL has no List RPC for
/// events, and SailPoint trigger ids are the usual mistake.
pub const EVENTS_LISTED_AT: &str = "the known event types and groups are listed by \
    GET /v1/catalog/zitadel-events, on the console's Routes page and in the README; SailPoint trigger ids \
    belong in SailPoint trigger subscriptions, not ZITADEL executions";

/// Functions ZITADEL calls out to (the `function` condition).
pub const DEFAULT_FUNCTIONS: &[&str] = &["preaccesstoken", "presamlresponse", "preuserinfo"];

/// gRPC services and their methods (ZITADEL v2 API).
pub const DEFAULT_SERVICES: &[(&str, &[&str])] = &[
    (
        "zitadel.action.v2.ActionService",
        &[
            "CreateTarget",
            "UpdateTarget",
            "DeleteTarget",
            "GetTarget",
            "ListTargets",
            "SetExecution",
            "ListExecutions",
            "ListExecutionFunctions",
            "ListExecutionMethods",
            "ListExecutionServices",
            "AddPublicKey",
            "ActivatePublicKey",
            "DeactivatePublicKey",
            "RemovePublicKey",
            "ListPublicKeys",
        ],
    ),
    (
        "zitadel.feature.v2.FeatureService",
        &[
            "SetSystemFeatures",
            "ResetSystemFeatures",
            "GetSystemFeatures",
            "SetInstanceFeatures",
            "ResetInstanceFeatures",
            "GetInstanceFeatures",
            "SetOrganizationFeatures",
            "ResetOrganizationFeatures",
            "GetOrganizationFeatures",
            "SetUserFeatures",
            "ResetUserFeatures",
            "GetUserFeatures",
        ],
    ),
    ("zitadel.idp.v2.IdentityProviderService", &["GetIDPByID"]),
    (
        "zitadel.oidc.v2.OIDCService",
        &[
            "GetAuthRequest",
            "CreateCallback",
            "GetDeviceAuthorizationRequest",
            "AuthorizeOrDenyDeviceAuthorization",
        ],
    ),
    (
        "zitadel.org.v2.OrganizationService",
        &[
            "AddOrganization",
            "ListOrganizations",
            "UpdateOrganization",
            "DeleteOrganization",
            "DeactivateOrganization",
            "ActivateOrganization",
            "AddOrganizationDomain",
            "ListOrganizationDomains",
            "DeleteOrganizationDomain",
            "GenerateOrganizationDomainValidation",
            "VerifyOrganizationDomain",
            "SetOrganizationMetadata",
            "ListOrganizationMetadata",
            "DeleteOrganizationMetadata",
        ],
    ),
    (
        "zitadel.saml.v2.SAMLService",
        &["GetSAMLRequest", "CreateResponse"],
    ),
    (
        "zitadel.session.v2.SessionService",
        &[
            "ListSessions",
            "GetSession",
            "CreateSession",
            "SetSession",
            "DeleteSession",
        ],
    ),
    (
        "zitadel.settings.v2.SettingsService",
        &[
            "GetGeneralSettings",
            "GetLoginSettings",
            "GetActiveIdentityProviders",
            "GetPasswordComplexitySettings",
            "GetPasswordExpirySettings",
            "GetBrandingSettings",
            "GetDomainSettings",
            "GetLegalAndSupportSettings",
            "GetLockoutSettings",
            "GetSecuritySettings",
            "SetSecuritySettings",
            "GetHostedLoginTranslation",
            "SetHostedLoginTranslation",
        ],
    ),
    (
        "zitadel.user.v2.UserService",
        &[
            "AddHumanUser",
            "CreateUser",
            "UpdateUser",
            "UpdateHumanUser",
            "GetUserByID",
            "ListUsers",
            "DeleteUser",
            "DeactivateUser",
            "ReactivateUser",
            "LockUser",
            "UnlockUser",
            "SetEmail",
            "ResendEmailCode",
            "SendEmailCode",
            "VerifyEmail",
            "SetPhone",
            "RemovePhone",
            "ResendPhoneCode",
            "VerifyPhone",
            "SetPassword",
            "PasswordReset",
            "AddIDPLink",
            "ListIDPLinks",
            "RemoveIDPLink",
            "StartIdentityProviderIntent",
            "RetrieveIdentityProviderIntent",
            "RegisterPasskey",
            "VerifyPasskeyRegistration",
            "CreatePasskeyRegistrationLink",
            "ListPasskeys",
            "RemovePasskey",
            "RegisterU2F",
            "VerifyU2FRegistration",
            "RemoveU2F",
            "RegisterTOTP",
            "VerifyTOTPRegistration",
            "RemoveTOTP",
            "AddOTPSMS",
            "RemoveOTPSMS",
            "AddOTPEmail",
            "RemoveOTPEmail",
            "ListAuthenticationMethodTypes",
            "ListAuthenticationFactors",
            "CreateInviteCode",
            "ResendInviteCode",
            "VerifyInviteCode",
            "HumanMFAInitSkipped",
            "SetUserMetadata",
            "ListUserMetadata",
            "DeleteUserMetadata",
            "AddKey",
            "RemoveKey",
            "ListKeys",
            "AddSecret",
            "RemoveSecret",
            "AddPersonalAccessToken",
            "RemovePersonalAccessToken",
            "ListPersonalAccessTokens",
        ],
    ),
    (
        "zitadel.webkey.v2.WebKeyService",
        &[
            "CreateWebKey",
            "ActivateWebKey",
            "DeleteWebKey",
            "ListWebKeys",
        ],
    ),
];

/// Event types (the `event` condition); groups are their dotted prefixes.
pub const DEFAULT_EVENTS: &[&str] = &[
    "instance.added",
    "instance.changed",
    "instance.removed",
    "org.added",
    "org.changed",
    "org.deactivated",
    "org.reactivated",
    "org.removed",
    "org.domain.added",
    "org.domain.verified",
    "org.domain.primary.set",
    "org.domain.removed",
    "org.member.added",
    "org.member.changed",
    "org.member.removed",
    "project.added",
    "project.changed",
    "project.deactivated",
    "project.reactivated",
    "project.removed",
    "project.application.added",
    "project.application.changed",
    "project.application.removed",
    "project.role.added",
    "project.role.changed",
    "project.role.removed",
    "project.grant.added",
    "project.grant.changed",
    "project.grant.removed",
    "session.added",
    "session.user.checked",
    "session.password.checked",
    "session.intent.checked",
    "session.webAuthN.challenged",
    "session.webAuthN.checked",
    "session.totp.checked",
    "session.otp.sms.checked",
    "session.otp.email.checked",
    "session.metadata.set",
    "session.token.set",
    "session.terminated",
    "user.human.added",
    "user.human.selfregistered",
    "user.human.initialization.code.added",
    "user.human.initialization.check.succeeded",
    "user.human.profile.changed",
    "user.human.email.changed",
    "user.human.email.code.added",
    "user.human.email.verified",
    "user.human.phone.changed",
    "user.human.phone.code.added",
    "user.human.phone.verified",
    "user.human.phone.removed",
    "user.human.password.changed",
    "user.human.password.code.added",
    "user.human.password.check.succeeded",
    "user.human.password.check.failed",
    "user.human.mfa.otp.added",
    "user.human.mfa.otp.verified",
    "user.human.mfa.otp.removed",
    "user.human.passwordless.token.added",
    "user.human.passwordless.token.verified",
    "user.human.passwordless.token.removed",
    "user.human.u2f.token.added",
    "user.human.u2f.token.verified",
    "user.human.u2f.token.removed",
    "user.human.signed.out",
    "user.human.externalidp.added",
    "user.human.externalidp.removed",
    "user.machine.added",
    "user.machine.changed",
    "user.machine.key.added",
    "user.machine.key.removed",
    "user.machine.secret.set",
    "user.machine.secret.removed",
    "user.personal.access.token.added",
    "user.personal.access.token.removed",
    "user.locked",
    "user.unlocked",
    "user.deactivated",
    "user.reactivated",
    "user.removed",
    "user.username.changed",
    "user.metadata.set",
    "user.metadata.removed",
    "user.metadata.removed.all",
    "user.token.added",
    "user.token.removed",
    "user.grant.added",
    "user.grant.changed",
    "user.grant.removed",
    "user.grant.deactivated",
    "user.grant.reactivated",
    "user.grant.cascade.removed",
];

/// The names conditions may refer to. Cheap to share behind an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct ZitadelCatalog {
    functions: BTreeSet<String>,
    services: BTreeSet<String>,
    methods: BTreeSet<String>,
    events: BTreeSet<String>,
}

impl ZitadelCatalog {
    /// ZITADEL's well-known names.
    pub fn with_defaults() -> Self {
        let mut c = Self::default();
        c.add_functions(DEFAULT_FUNCTIONS.iter().copied());
        for (service, methods) in DEFAULT_SERVICES {
            c.add_methods(methods.iter().map(|m| format!("/{service}/{m}")));
        }
        c.add_events(DEFAULT_EVENTS.iter().copied());
        // Switchyard's own events, subscribable like ZITADEL's (schemas in the trigger catalog).
        c.add_events(crate::operator::ALL);
        c
    }

    pub fn add_functions<S: Into<String>>(&mut self, names: impl IntoIterator<Item = S>) {
        self.functions.extend(names.into_iter().map(Into::into));
    }

    /// Adds full method names (`/pkg.Service/Method`); their services become known too.
    pub fn add_methods<S: Into<String>>(&mut self, names: impl IntoIterator<Item = S>) {
        for m in names {
            let m: String = m.into();
            if let Some((service, _)) = m.trim_start_matches('/').split_once('/') {
                self.services.insert(service.to_string());
            }
            let full = if m.starts_with('/') {
                m
            } else {
                format!("/{m}")
            };
            self.methods.insert(full);
        }
    }

    /// Adds services that have no listed methods.
    pub fn add_services<S: Into<String>>(&mut self, names: impl IntoIterator<Item = S>) {
        self.services.extend(names.into_iter().map(Into::into));
    }

    pub fn add_events<S: Into<String>>(&mut self, names: impl IntoIterator<Item = S>) {
        self.events.extend(names.into_iter().map(Into::into));
    }

    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.functions.iter().map(String::as_str)
    }

    pub fn methods(&self) -> impl Iterator<Item = &str> {
        self.methods.iter().map(String::as_str)
    }

    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(String::as_str)
    }

    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.events.iter().map(String::as_str)
    }

    /// True when `group` is a dotted prefix of a known event (`user` and `user.human` are
    /// groups of `user.human.added`).
    pub fn is_event_group(&self, group: &str) -> bool {
        let prefix = format!("{group}.");
        self.events.iter().any(|e| e.starts_with(&prefix))
    }

    /// Checks that the names in `condition` are known. Field names are relative to the
    /// condition (`request.method`, `event.group`, `function.name`).
    pub fn check(&self, condition: &Condition) -> Result<(), ValidationError> {
        let method = |kind: &str, sel: &MethodSelector| match sel {
            MethodSelector::Method(m) if !self.methods.contains(m) => Err(ValidationError::new(
                format!("{kind}.method"),
                format!("'{m}' is not a known method (see ListExecutionMethods)"),
            )),
            MethodSelector::Service(s) if !self.services.contains(s) => Err(ValidationError::new(
                format!("{kind}.service"),
                format!("'{s}' is not a known service (see ListExecutionServices)"),
            )),
            _ => Ok(()),
        };
        match condition {
            Condition::Request(sel) => method("request", sel),
            Condition::Response(sel) => method("response", sel),
            Condition::Function(n) if !self.functions.contains(n) => Err(ValidationError::new(
                "function.name",
                format!("'{n}' is not a known function (see ListExecutionFunctions)"),
            )),
            Condition::Event(EventSelector::Event(e)) if !self.events.contains(e) => {
                Err(ValidationError::new(
                    "event.event",
                    format!("'{e}' is not a known event type ({EVENTS_LISTED_AT})"),
                ))
            }
            Condition::Event(EventSelector::Group(g)) if !self.is_event_group(g) => {
                Err(ValidationError::new(
                    "event.group",
                    format!(
                        "'{g}' is not a known event group, a dotted prefix of an event type \
                         ({EVENTS_LISTED_AT})"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_know_zitadel_names() {
        let c = ZitadelCatalog::with_defaults();
        assert!(c.functions().any(|f| f == "preuserinfo"));
        assert!(c
            .methods()
            .any(|m| m == "/zitadel.user.v2.UserService/AddHumanUser"));
        assert!(c
            .services()
            .any(|s| s == "zitadel.session.v2.SessionService"));
        assert!(c.methods().count() > 100);
        assert!(c.is_event_group("user.human"));
        assert!(c.is_event_group("user"));
        assert!(!c.is_event_group("user.hu"));
    }

    #[test]
    fn check_rejects_unknown_names_and_accepts_extensions() {
        let mut c = ZitadelCatalog::with_defaults();
        let unknown = Condition::Request(MethodSelector::Method("/acme.v1.Shop/Buy".into()));
        assert_eq!(c.check(&unknown).unwrap_err().field, "request.method");
        let svc = Condition::Response(MethodSelector::Service("acme.v1.Shop".into()));
        assert_eq!(c.check(&svc).unwrap_err().field, "response.service");
        assert!(c.check(&Condition::Function("nope".into())).is_err());
        let sailpoint =
            Condition::Event(EventSelector::Event("idn:access-request-submitted".into()));
        let e = c.check(&sailpoint).unwrap_err();
        assert!(e.rule.contains("GET /v1/catalog/zitadel-events"), "{e}");
        assert!(c
            .check(&Condition::Event(EventSelector::Event("nope".into())))
            .is_err());
        assert!(c.check(&Condition::Request(MethodSelector::All)).is_ok());
        c.add_methods(["/acme.v1.Shop/Buy"]);
        c.add_events(["shop.order.placed"]);
        c.add_functions(["preorder"]);
        assert!(c.check(&unknown).is_ok());
        assert!(c.check(&svc).is_ok());
        assert!(c
            .check(&Condition::Event(EventSelector::Group("shop".into())))
            .is_ok());
        assert!(c.check(&Condition::Function("preorder".into())).is_ok());
    }
}
