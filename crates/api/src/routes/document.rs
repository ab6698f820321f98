//! What a route's rules say in the OpenAPI document. Applied by [`super::Routes::add`] to each
//! operation, so the document cannot disagree with the guard: the `security` requirement (bearer
//! or OAuth2 client credentials with the route's scope, or none), `x-switchyard-scope`,
//! `x-switchyard-rate-class` and `x-switchyard-invalidates`, the instance selector parameters,
//! a unique `operationId`, and every error status the guard, the extractors and the store can
//! answer, each with the dialect's error schema. Statuses a handler documents itself keep their
//! description; those without a body get the dialect's error schema.

use super::{Access, Invalidates, Rule};
use crate::dialect::schema::error_schema;
use crate::dialect::DialectKind;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, Object, Ref, RefOr, Required, Response, ResponseBuilder, Type,
};

/// The name of the bearer (JWT) security scheme.
pub const BEARER: &str = "bearer";
/// The name of the OAuth2 client-credentials security scheme (`POST /oauth/token`).
pub const OAUTH2: &str = "oauth2";

pub(super) fn document(op: &mut Operation, rule: Rule, dialect: DialectKind, prefix: &str) {
    let id = op.operation_id.take().unwrap_or_default();
    op.operation_id = Some(format!("{prefix}_{id}"));
    op.security = Some(match rule.access {
        Access::Public => Vec::new(),
        Access::Scope(s) => vec![
            SecurityRequirement::new(BEARER, [s.as_str()]),
            SecurityRequirement::new(OAUTH2, [s.as_str()]),
        ],
    });
    let ext = op.extensions.get_or_insert_with(Extensions::default);
    ext.insert("x-switchyard-scope".into(), rule.scope_name().into());
    ext.insert("x-switchyard-rate-class".into(), rule.rate.as_str().into());
    ext.insert(
        "x-switchyard-invalidates".into(),
        match rule.invalidates {
            Invalidates::Nothing => "nothing",
            Invalidates::Routes => "routes",
        }
        .into(),
    );

    let mut statuses: Vec<u16> = vec![413];
    if op.request_body.is_some() {
        statuses.extend([400, 415]);
    }
    if let Access::Scope(scope) = rule.access {
        statuses.extend([401, 403, 429, 500, 503]);
        if !scope.is_server_wide() {
            add_instance_selector(op);
            // A malformed `instance.id`, or an instance the token may not see.
            statuses.extend([400, 404]);
        }
    }
    for status in statuses {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(error_response(dialect, status, None)));
    }
    // Handler-documented errors without a body get the dialect's error schema.
    for (key, resp) in op.responses.responses.iter_mut() {
        let status = key.parse::<u16>().ok().or_else(|| {
            key.strip_suffix("XX")
                .and_then(|d| d.parse::<u16>().ok())
                .map(|d| d * 100)
        });
        if let (Some(status), RefOr::T(r)) = (status, resp) {
            if status >= 400 && r.content.is_empty() {
                *r = error_response(dialect, status, Some(&r.description));
            }
        }
    }
}

/// `instance.id` / `instance.domain`: which instance the request acts on (see `tenant.rs`).
fn add_instance_selector(op: &mut Operation) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    let present = |name: &str, params: &Vec<utoipa::openapi::path::Parameter>| {
        params.iter().any(|p| p.name == name)
    };
    let selectors = [
        (
            "instance.id",
            "The instance to act on: the token's own, or any with a `system` token \
             (empty: the token's own).",
            Some("^[A-Za-z0-9._-]{0,200}$"),
        ),
        (
            "instance.domain",
            "The instance to act on, by a domain bound to it (empty: the token's own).",
            None,
        ),
    ];
    for (name, description, pattern) in selectors {
        if present(name, params) {
            continue;
        }
        let mut schema = Object::with_type(Type::String);
        schema.pattern = pattern.map(String::from);
        params.push(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(description))
                .schema(Some(schema))
                .build(),
        );
    }
}

fn standard_description(status: u16) -> &'static str {
    match status {
        400 => "invalid request (malformed JSON, a field or parameter breaking a rule)",
        401 => "missing, malformed, expired or forged bearer token",
        403 => "the token lacks the scope this route needs",
        404 => "not found, or an instance the token may not see",
        413 => "request body larger than the configured limit",
        415 => "unsupported content type",
        429 => "rate limit exceeded; retry after `Retry-After` seconds",
        500 => "internal error (logged with its cause, never shown)",
        503 => "storage or server briefly unavailable; retry after `Retry-After` seconds",
        _ => "error",
    }
}

/// An error response of `dialect` for `status`, with its headers.
fn error_response(dialect: DialectKind, status: u16, description: Option<&str>) -> Response {
    let schema = Ref::from_schema_name(error_schema(dialect, status));
    let mut b = ResponseBuilder::new()
        .description(description.unwrap_or_else(|| standard_description(status)))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(schema)).build(),
        );
    let integer = || Object::with_type(Type::Integer);
    if matches!(status, 429 | 503) {
        b = b.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(integer())
                .description(Some("seconds to wait before trying again"))
                .build(),
        );
    }
    if status == 401 {
        b = b.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Object::with_type(Type::String))
                .description(Some("`Bearer error=\"invalid_token\"`"))
                .build(),
        );
    }
    b.build()
}
