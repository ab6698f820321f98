//! The document's frame: info, the security schemes the routes' requirements name (bearer JWT
//! and OAuth2 client credentials at `/oauth/token`, with every scope), and the error schemas of
//! the four dialects. The operations come from [`crate::routes::Routes`].

use crate::dialect::schema::{
    ConnectError, NativeError, SailPointError, SailPointErrorMessage, SailPointRateLimited,
    SailPointUnauthorized, ZitadelRestError,
};
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use switchyard_core::auth::Scope;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard",
        description = "Self-hosted event-hooks engine: ZITADEL Actions v2 and SailPoint Event Triggers compatible."
    ),
    components(schemas(
        ConnectError,
        ZitadelRestError,
        SailPointError,
        SailPointErrorMessage,
        SailPointUnauthorized,
        SailPointRateLimited,
        NativeError
    )),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

/// The frame every operation is added to.
pub fn base() -> Document {
    ApiDoc::openapi()
}

/// The finished document as JSON, serialized once at start and handed to [`document`].
#[derive(Clone)]
pub struct DocumentJson(pub Bytes);

/// The OpenAPI document itself, this one included.
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, description = "this OpenAPI 3.1 document", body = Object)))]
pub async fn document(Extension(doc): Extension<DocumentJson>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], doc.0)
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            crate::routes::BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT from `POST /oauth/token`, `switchyard token`, or an identity \
                         provider whose JWKS is configured; its `scope` claim lists the scopes.",
                    ))
                    .build(),
            ),
        );
        let scopes = Scopes::from_iter(
            Scope::ALL
                .into_iter()
                .map(|s| (s.as_str(), scope_description(s))),
        );
        components.add_security_scheme(
            crate::routes::OAUTH2,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    scopes,
                ))],
                "OAuth 2.0 client credentials (`switchyard clients create`).",
            )),
        );
    }
}

fn scope_description(s: Scope) -> &'static str {
    match s {
        Scope::TargetsRead => "read ZITADEL targets and executions",
        Scope::TargetsWrite => "change ZITADEL targets and executions",
        Scope::TriggersRead => "read the trigger catalog",
        Scope::TriggersWrite => "register and delete custom triggers",
        Scope::SubscriptionsRead => "read SailPoint subscriptions",
        Scope::SubscriptionsWrite => "change subscriptions and their signing secrets",
        Scope::EventsPublish => "publish events",
        Scope::InvocationsStart => "start request-response triggers, calls and replays",
        Scope::InvocationsRead => "read invocations and calls",
        Scope::MetricsRead => "scrape the server-wide Prometheus metrics",
        Scope::Admin => "every scope of the token's instance (not metrics:read)",
        Scope::System => "admin in any instance the request names, and metrics:read",
    }
}
