//! The web console over HTTP: the session cookie's flags, public assets, data only with a
//! session, CSRF refusals, one instance's console seeing nothing of another's, and the
//! deliveries and routes pages driven as a browser would (forms, redirects), without a browser.
//! The browser run is `tests/sdk/test_console.py`.

use crate::auth::create_client;
use crate::delivery::{
    identity, invocation_for, publish, server_with_schedule, subscribe, target, wait_status,
    Receiver, Reply,
};
use crate::support::TestServer;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect, Response, StatusCode};
use serde_json::json;

/// A browser-like client that never follows redirects, so tests see each answer.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// A signed-in console: its cookie and CSRF token.
struct Console<'a> {
    s: &'a TestServer,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

async fn sign_in_with(s: &TestServer, form: &[(&str, &str)]) -> Response {
    client()
        .post(s.url("/console/sign-in"))
        .header("origin", &s.base)
        .form(form)
        .send()
        .await
        .unwrap()
}

impl<'a> Console<'a> {
    async fn sign_in(s: &'a TestServer, token: &str) -> Console<'a> {
        let resp = sign_in_with(s, &[("token", token)]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        let mut c = Console {
            s,
            http: client(),
            cookie,
            csrf: String::new(),
        };
        // Every signed-in page carries the CSRF token (in its sign-out form).
        let (_, page) = c.get("/console/deliveries").await;
        c.csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
        assert!(!c.csrf.is_empty());
        c
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(self.s.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// Posts a form from this origin with the CSRF token; returns status and Location.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form = form.to_vec();
        form.push(("csrf", &self.csrf));
        let resp = self
            .http
            .post(self.s.url(path))
            .header(COOKIE, &self.cookie)
            .header("origin", &self.s.base)
            .form(&form)
            .send()
            .await
            .unwrap();
        self.with_flash(resp).await.0
    }

    /// Status and Location of an answer; when it is a redirect carrying a message (the sealed
    /// flash cookie), the page it leads to is opened with the cookie and its message appended
    /// to the location as `#ok=words+of+it` or `#error=...`, and that page must clear the
    /// cookie. Also returns the answer's own body.
    async fn with_flash(&self, resp: Response) -> ((StatusCode, String), String) {
        let flash = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|v| v.starts_with("switchyard_flash="))
            .map(|v| v.split(';').next().unwrap().to_string());
        let (st, loc) = {
            let st = resp.status();
            let loc = resp
                .headers()
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default();
            (st, loc)
        };
        let body = resp.text().await.unwrap();
        let Some(flash) = flash else {
            return ((st, loc), body);
        };
        assert!(!loc.contains("ok=") && !loc.contains("error="), "{loc}");
        let page = self
            .http
            .get(self.s.url(&loc))
            .header(COOKIE, format!("{}; {flash}", self.cookie))
            .send()
            .await
            .unwrap();
        let cleared = page
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("switchyard_flash=;"));
        assert!(cleared, "the page showing the message clears it");
        let text = page.text().await.unwrap();
        let kind = between(&text, "id=\"flash\" class=\"flash ", "\"").to_string();
        let words = unescape(between(&text, "role=\"alert\">", "</p>"))
            + &unescape(between(&text, "role=\"status\">", "</p>"));
        assert!(!kind.is_empty(), "{text}");
        (
            (st, format!("{loc}#{kind}={}", words.replace(' ', "+"))),
            body,
        )
    }
}

impl Console<'_> {
    /// Posts a form like [`Console::post`] and also returns the page answered.
    async fn post_page(
        &self,
        path: &str,
        form: Vec<(&'static str, String)>,
    ) -> (StatusCode, String, String) {
        let mut form = form;
        form.push(("csrf", self.csrf.clone()));
        let resp = self
            .http
            .post(self.s.url(path))
            .header(COOKIE, &self.cookie)
            .header("origin", &self.s.base)
            .form(&form)
            .send()
            .await
            .unwrap();
        let ((st, loc), body) = self.with_flash(resp).await;
        (st, loc, body)
    }
}

fn location(resp: Response) -> (StatusCode, String) {
    let st = resp.status();
    let loc = resp
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (st, loc)
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> &'t str {
    let from = text
        .find(start)
        .map(|i| i + start.len())
        .unwrap_or(text.len());
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(0)]
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_sign_out_clears_it() {
    let s = TestServer::start().await;
    let resp = sign_in_with(&s, &[("token", &s.token("admin"))]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    // The token is not readable in the cookie (sealed).
    assert!(!set.contains(&s.token("admin")[..20]));

    // A bad token and an empty form are refused on the form, without a cookie.
    let resp = sign_in_with(&s, &[("token", "not-a-token")]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(SET_COOKIE).is_none());
    assert!(resp.text().await.unwrap().contains("the token was refused"));
    let resp = sign_in_with(&s, &[("token", "")]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Signing in from another site is refused (login CSRF).
    let resp = client()
        .post(s.url("/console/sign-in"))
        .header("origin", "http://evil.example")
        .form(&[("token", s.token("admin"))])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let c = Console::sign_in(&s, &s.token("admin")).await;
    let (st, loc) = c.post("/console/sign-out", &[]).await;
    assert_eq!(
        (st, loc.as_str()),
        (StatusCode::SEE_OTHER, "/console/sign-in")
    );
}

#[tokio::test]
async fn an_oauth_client_signs_in_with_its_id_and_secret() {
    let s = TestServer::start().await;
    let (id, secret) = create_client(&s, &["--scopes", "admin"]);
    let resp = sign_in_with(&s, &[("client_id", &id), ("client_secret", "wrong")]).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.text().await.unwrap().contains("client"));
    let resp = sign_in_with(&s, &[("client_id", &id), ("client_secret", &secret)]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp.headers()[SET_COOKIE].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap();
    let resp = client()
        .get(s.url("/console/deliveries"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains(&id));
}

#[tokio::test]
async fn assets_are_public_and_data_needs_a_session() {
    let s = TestServer::start().await;
    for (name, kind) in [
        ("htmx.min.js", "text/javascript"),
        ("uPlot.iife.min.js", "text/javascript"),
        ("console.css", "text/css"),
        ("htmx.LICENSE", "text/plain"),
    ] {
        let resp = client()
            .get(s.url(&format!("/console/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert!(resp.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(kind));
    }
    let resp = client()
        .get(s.url("/console/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = client()
        .get(s.url("/console/sign-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    for page in [
        "/console",
        "/console/deliveries",
        "/console/deliveries/x",
        "/console/routes",
    ] {
        let (st, loc) = location(client().get(s.url(page)).send().await.unwrap());
        assert_eq!(
            (st, loc.as_str()),
            (StatusCode::SEE_OTHER, "/console/sign-in"),
            "{page}"
        );
        // A forged or foreign cookie is no session either.
        let resp = client()
            .get(s.url(page))
            .header(COOKIE, "switchyard_console=v1:x:AAAA")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{page}");
    }
    let resp = client()
        .get(s.url("/console/overview/data"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client()
        .post(s.url("/console/deliveries/x/replay"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Console pages are not API operations.
    let (_, doc) = s.get("/openapi.json").await;
    assert!(!doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .any(|p| p.starts_with("/console")));
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_this_origin() {
    let s = server_with_schedule("50ms").await;
    let r = Receiver::start().await;
    r.default_for("/down", 500);
    let sub = subscribe(&s, &r.url("/down"), json!({})).await;
    let sub = sub["id"].as_str().unwrap().to_string();
    let p = publish(&s, "idn:identity-created", identity("u1", "Ops")).await;
    let inv = invocation_for(&p, &sub);
    wait_status(&s, &inv, "failed").await;
    let c = Console::sign_in(&s, &s.token("admin")).await;
    let path = format!("/console/deliveries/{inv}/replay");

    // Without the token, with a wrong one, or from another origin: refused, nothing replayed.
    for (csrf, origin) in [
        ("", s.base.as_str()),
        ("wrong", s.base.as_str()),
        (c.csrf.as_str(), "http://evil.example"),
    ] {
        let resp = c
            .http
            .post(s.url(&path))
            .header(COOKIE, &c.cookie)
            .header("origin", origin)
            .form(&[("csrf", csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{csrf} {origin}");
    }
    let resp = c
        .http
        .post(s.url(&path))
        .header(COOKIE, &c.cookie)
        .header("sec-fetch-site", "cross-site")
        .header("x-csrf-token", &c.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, v) = s.get(&format!("/v1/invocations/{inv}")).await;
    assert_eq!(v["status"], "failed");

    // With both, the replay happens (the header form works too).
    let (st, loc) = c.post(&path, &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(
        loc.starts_with(&format!("/console/deliveries/{inv}#ok=")),
        "{loc}"
    );
}

#[tokio::test]
async fn deliveries_are_found_inspected_replayed_and_recovered() {
    let s = server_with_schedule("50ms").await;
    let r = Receiver::start().await;
    r.default_for("/down", Reply::status(500).body("receiver down"));
    let sub = subscribe(&s, &r.url("/down"), json!({"name": "ops hook"})).await;
    let sub = sub["id"].as_str().unwrap().to_string();
    let (target_id, _) = target(&s, "audit", &r.url("/target"), json!({"restWebhook": {}})).await;
    let p = publish(&s, "idn:identity-created", identity("u1", "Ops")).await;
    let inv = invocation_for(&p, &sub);
    wait_status(&s, &inv, "failed").await;
    let c = Console::sign_in(&s, &s.token("admin")).await;

    let (st, page) = c.get("/console/deliveries?status=failed").await;
    assert_eq!(st, 200);
    assert!(page.contains(&inv), "{page}");
    let (_, page) = c.get("/console/deliveries?status=delivered").await;
    assert!(!page.contains(&inv));
    let (_, page) = c.get(&format!("/console/deliveries?routeId={sub}&routeKind=subscription&triggerId=idn:identity-created&since=2000-01-01T00:00")).await;
    assert!(page.contains(&inv));
    // The API's validation message is shown for a bad filter.
    let (st, page) = c.get("/console/deliveries?since=yesterday").await;
    assert_eq!(st, 400);
    assert!(page.contains("since: not an RFC 3339 time"), "{page}");

    // The detail shows each attempt: status, error, headers and the response excerpt.
    let (st, page) = c.get(&format!("/console/deliveries/{inv}")).await;
    assert_eq!(st, 200);
    assert!(page.contains("Attempt 2") && page.contains("Attempt 1"));
    assert!(page.contains("receiver down"));
    assert!(page.contains("webhook-id"), "request headers shown");
    assert!(page.contains("u1"), "the request payload shown");
    let (st, _) = c.get("/console/deliveries/nope").await;
    assert_eq!(st, 404);

    // The receiver recovers: replay delivers it.
    r.default_for("/down", 200);
    let (st, loc) = c
        .post(&format!("/console/deliveries/{inv}/replay"), &[])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    wait_status(&s, &inv, "delivered").await;

    // Bulk recovery with a filter answers how many were queued.
    r.default_for("/down", 500);
    let p2 = publish(&s, "idn:identity-created", identity("u2", "Ops")).await;
    let inv2 = invocation_for(&p2, &sub);
    wait_status(&s, &inv2, "failed").await;
    r.default_for("/down", 200);
    let (st, loc) = c
        .post(
            "/console/deliveries/recover",
            &[
                ("status", "failed"),
                ("routeId", &sub),
                ("since", "2000-01-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("ok=Queued+1+invocation"), "{loc}");
    wait_status(&s, &inv2, "delivered").await;
    // Without `since` the API's message comes back.
    let (_, loc) = c
        .post("/console/deliveries/recover", &[("status", "failed")])
        .await;
    assert!(loc.contains("error="), "{loc}");

    // Routes: the subscription, the target, the catalog; disable then enable.
    let (st, page) = c.get("/console/routes").await;
    assert_eq!(st, 200);
    assert!(page.contains("ops hook") && page.contains(&target_id) && page.contains("audit"));
    assert!(page.contains("idn:identity-created"));
    // The ZITADEL event types an execution may name (the unknown-event error points here).
    assert!(
        page.contains("ZITADEL event types") && page.contains("user.human.added"),
        "{page}"
    );
    let (st, loc) = c
        .post(
            &format!("/console/routes/subscriptions/{sub}/enabled"),
            &[("enabled", "false")],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("ok="), "{loc}");
    let (_, v) = s.get(&format!("/beta/trigger-subscriptions/{sub}")).await;
    assert_eq!(v["enabled"], false);
    // A test invocation goes out and its page is shown.
    let (st, loc) = c
        .post("/console/routes/test", &[("subscription", &sub)])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/console/deliveries/"), "{loc}");
}

#[tokio::test]
async fn another_instance_sees_none_of_it() {
    let s = server_with_schedule("50ms").await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/ok"), json!({"name": "default hook"})).await;
    let sub = sub["id"].as_str().unwrap().to_string();
    let p = publish(&s, "idn:identity-created", identity("u1", "Ops")).await;
    let inv = invocation_for(&p, &sub);
    wait_status(&s, &inv, "delivered").await;

    let other = Console::sign_in(&s, &s.token_for("other", "admin")).await;
    let (st, page) = other.get("/console/deliveries").await;
    assert_eq!(st, 200);
    assert!(!page.contains(&inv));
    let (st, _) = other.get(&format!("/console/deliveries/{inv}")).await;
    assert_eq!(st, 404);
    let (_, page) = other.get("/console/routes").await;
    assert!(!page.contains(&sub) && !page.contains("default hook"));
    let (_, loc) = other
        .post(&format!("/console/deliveries/{inv}/replay"), &[])
        .await;
    assert!(loc.contains("error="), "{loc}");
    // The instance admin may not see the server-wide counters; a system token may.
    let (_, page) = other.get("/console").await;
    assert!(page.contains("metrics:read") && !page.contains("id=\"charts\""));
    let (st, _) = other.get("/console/overview/data").await;
    assert_eq!(st, 403);
    let system = Console::sign_in(&s, &s.token("system")).await;
    let (_, page) = system.get("/console").await;
    assert!(page.contains("id=\"charts\""), "{page}");
    let (st, data) = system.get("/console/overview/data").await;
    assert_eq!(st, 200);
    let data: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert!(data["depth"]["pending"].is_array() && data["rate"]["delivered"].is_array());
    // A scope the token lacks is the API's 403 message, not a page of someone else's data.
    let reader = Console::sign_in(&s, &s.token("targets:read")).await;
    let (_, page) = reader.get("/console/deliveries").await;
    assert!(page.contains("invocations:read"), "{page}");
}

/// HTML text back to plain text (askama escapes quotes, ampersands and angle brackets).
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the element with `id` (its first line of content), for checking what is shown
/// beside a field.
fn element<'t>(page: &'t str, id: &str) -> &'t str {
    between(page, &format!("id=\"{id}\""), "</")
}

#[tokio::test]
async fn subscriptions_are_created_edited_with_a_patch_preview_and_deleted() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let c = Console::sign_in(&s, &s.token("admin")).await;
    let (st, page) = c.get("/console/routes/subscriptions/new").await;
    assert_eq!(st, 200);
    assert!(page.contains("<label for=\"f-url\">") && page.contains("idn:identity-created"));

    // A bad URL: the API's message beside the URL field, the values entered kept.
    let form = |url: &str| {
        vec![
            ("name", "console hook".to_string()),
            ("triggerId", "idn:identity-created".to_string()),
            ("type", "HTTP".to_string()),
            ("url", url.to_string()),
            ("dispatchMode", "SYNC".to_string()),
            ("authType", "NO_AUTH".to_string()),
            ("filter", "$[?($.identity.name)]".to_string()),
            ("enabled", "true".to_string()),
        ]
    };
    let (st, _, page) = c
        .post_page("/console/routes/subscriptions", form("not a url"))
        .await;
    assert_eq!(st, 400, "{page}");
    let beside = element(&page, "f-url-err");
    assert!(beside.contains("httpConfig.url"), "{page}");
    assert!(
        page.contains("aria-describedby=\"f-url-err\"") && page.contains("aria-invalid=\"true\"")
    );
    assert!(page.contains("role=\"alert\""));
    assert!(page.contains("value=\"console hook\"") && page.contains("value=\"not a url\""));
    assert!(page.contains("value=\"$[?($.identity.name)]\""));

    // A good one is created.
    let (st, loc, _) = c
        .post_page("/console/routes/subscriptions", form(&r.url("/a")))
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("ok=Subscription"), "{loc}");
    let (_, list) = s.get("/beta/trigger-subscriptions").await;
    let sub = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "console hook")
        .expect("created")
        .clone();
    let id = sub["id"].as_str().unwrap().to_string();
    assert_eq!(sub["httpConfig"]["url"], r.url("/a"));
    assert_eq!(sub["filter"], "$[?($.identity.name)]");

    // Edit: the form shows it; the preview shows the RFC 6902 operations, nothing is written.
    let (st, page) = c.get(&format!("/console/routes/subscriptions/{id}")).await;
    assert_eq!(st, 200);
    assert!(page.contains(&r.url("/a")) && page.contains("readonly"));
    let mut edit = form(&r.url("/b"));
    edit.retain(|(k, _)| *k != "filter");
    edit.push(("action", "preview".into()));
    let path = format!("/console/routes/subscriptions/{id}");
    let (st, _, page) = c.post_page(&path, edit.clone()).await;
    assert_eq!(st, 200);
    let preview = element(&page, "patch-preview");
    let ops: serde_json::Value =
        serde_json::from_str(&unescape(&preview[1..])).unwrap_or_else(|e| panic!("{e}: {preview}"));
    assert_eq!(
        ops,
        json!([
            {"op": "remove", "path": "/filter"},
            {"op": "replace", "path": "/httpConfig/url", "value": r.url("/b")},
        ])
    );
    let (_, v) = s.get(&format!("/beta/trigger-subscriptions/{id}")).await;
    assert_eq!(
        v["httpConfig"]["url"],
        r.url("/a"),
        "a preview writes nothing"
    );

    // Save with an invalid deadline: the API's message beside that field.
    let mut bad = edit.clone();
    bad.retain(|(k, _)| *k != "action");
    bad.push(("responseDeadline", "soon".into()));
    bad.push(("action", "save".into()));
    let (st, _, page) = c.post_page(&path, bad).await;
    assert_eq!(st, 400, "{page}");
    assert!(
        element(&page, "f-responseDeadline-err").contains("responseDeadline"),
        "{page}"
    );
    assert!(page.contains("value=\"soon\""));

    // Save sends the patch.
    edit.retain(|(k, _)| *k != "action");
    edit.push(("action", "save".into()));
    let (st, loc, _) = c.post_page(&path, edit).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("updated"), "{loc}");
    let (_, v) = s.get(&format!("/beta/trigger-subscriptions/{id}")).await;
    assert_eq!(v["httpConfig"]["url"], r.url("/b"));
    assert!(v["filter"].is_null());

    // Another instance's console can neither see, edit nor delete it.
    let other = Console::sign_in(&s, &s.token_for("other", "admin")).await;
    let (st, _) = other.get(&path).await;
    assert_eq!(st, 404);
    let (_, loc) = other.post(&format!("{path}/delete"), &[]).await;
    assert!(loc.contains("error="), "{loc}");
    let (st, _) = s.get(&format!("/beta/trigger-subscriptions/{id}")).await;
    assert_eq!(st, 200);

    // Delete.
    let (st, loc) = c.post(&format!("{path}/delete"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("deleted"), "{loc}");
    let (st, _) = s.get(&format!("/beta/trigger-subscriptions/{id}")).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn targets_are_created_edited_rotated_deleted_and_show_their_circuit_breaker() {
    use crate::calls;
    let s = TestServer::start_with(|c| {
        c.delivery.breaker_failures = 2;
        c.delivery.breaker_cooldown = "1h".into();
    })
    .await;
    let r = calls::Receiver::start().await;
    let c = Console::sign_in(&s, &s.token("admin")).await;
    let (st, page) = c.get("/console/routes/targets/new").await;
    assert_eq!(st, 200);
    assert!(page.contains("<label for=\"f-timeout\">"));
    let form = |timeout: &str| {
        vec![
            ("name", "console target".to_string()),
            ("endpoint", r.url("/flaky")),
            ("timeout", timeout.to_string()),
            ("kind", "restWebhook".to_string()),
            ("payloadType", "PAYLOAD_TYPE_JSON".to_string()),
        ]
    };
    // A bad timeout: the API's message beside the timeout field, values kept.
    let (st, _, page) = c.post_page("/console/routes/targets", form("soon")).await;
    assert_eq!(st, 400, "{page}");
    assert!(
        element(&page, "f-timeout-err").contains("timeout"),
        "{page}"
    );
    assert!(page.contains("value=\"console target\"") && page.contains("value=\"soon\""));
    let (st, loc, _) = c.post_page("/console/routes/targets", form("5s")).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("created"), "{loc}");
    let (_, found) = s.post("/v2/actions/targets/search", json!({})).await;
    let id = found["targets"][0]["id"].as_str().unwrap().to_string();
    let old_key = found["targets"][0]["signingKey"]
        .as_str()
        .unwrap()
        .to_string();

    // Edit: the name changes, the rest stays.
    let path = format!("/console/routes/targets/{id}");
    let (st, page) = c.get(&path).await;
    assert_eq!(st, 200);
    assert!(page.contains("Rotate the signing key"));
    let mut edit = form("5s");
    edit[0].1 = "renamed target".into();
    let (st, loc, page) = c.post_page(&path, edit).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{page}");
    assert!(loc.contains("updated"), "{loc}");
    let (_, t) = s.get(&format!("/v2/actions/targets/{id}")).await;
    assert_eq!(t["target"]["name"], "renamed target");
    assert_eq!(t["target"]["endpoint"], r.url("/flaky"));

    // Rotation: a grace period too long is the API's message beside the field.
    let rotate = format!("{path}/rotate");
    let (st, _, page) = c
        .post_page(&rotate, vec![("expirationSigningKey", "700000s".into())])
        .await;
    assert_eq!(st, 400, "{page}");
    assert!(
        element(&page, "f-expirationSigningKey-err").contains("604800s"),
        "{page}"
    );
    // A day: the page says until when the previous key signs (change date + 1 day).
    let (st, loc, _) = c
        .post_page(&rotate, vec![("expirationSigningKey", "86400s".into())])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, t) = s.get(&format!("/v2/actions/targets/{id}")).await;
    assert_ne!(t["target"]["signingKey"], old_key.as_str());
    let changed = t["target"]["changeDate"].as_str().unwrap();
    let flash = loc.split_once("#ok=").unwrap().1.replace('+', " ");
    let changed_ms = time_ms(changed);
    let until = between(&flash, "until ", ";");
    assert_eq!(time_ms(until) - changed_ms, 86_400_000, "{flash}");
    assert!(flash.contains("keeps signing for 86400s"), "{flash}");

    // The circuit breaker: closed, then open after two failed calls.
    let (_, page) = c.get("/console/routes").await;
    assert!(page.contains("st-breaker-closed"), "{page}");
    r.set("/flaky", calls::Answer::empty(500));
    calls::execution(&s, json!({"request": {"method": calls::ADD_HUMAN}}), &[&id]).await;
    for _ in 0..2 {
        calls::call(
            &s,
            json!({"condition": {"request": {"method": calls::ADD_HUMAN}}, "payload": {}}),
        )
        .await;
    }
    let (_, page) = c.get("/console/routes").await;
    assert!(page.contains("st-breaker-open\">open<"), "{page}");
    assert!(
        page.contains("2 consecutive failure(s); probe after"),
        "{page}"
    );

    // The operator switch: off (the page says since when and why), then on again.
    let (st, loc) = c
        .post(&format!("{path}/enabled"), &[("enabled", "false")])
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(
        loc.contains("#ok=") && loc.contains("switched+off"),
        "{loc}"
    );
    let (_, h) = s.get(&format!("/v1/targets/{id}/health")).await;
    assert_eq!(h["disabled"]["reason"], "operator", "{h}");
    let (_, page) = c.get("/console/routes").await;
    assert!(page.contains("switched off</span> <small>since"), "{page}");
    assert!(page.contains("(operator)") && page.contains("Switch target renamed target on"));
    let (_, loc) = c
        .post(&format!("{path}/enabled"), &[("enabled", "true")])
        .await;
    assert!(loc.contains("switched+on"), "{loc}");
    let (_, h) = s.get(&format!("/v1/targets/{id}/health")).await;
    assert!(h.get("disabled").is_none(), "{h}");

    // Another instance's console cannot change it.
    let other = Console::sign_in(&s, &s.token_for("other", "admin")).await;
    let (_, loc) = other
        .post(&format!("{path}/enabled"), &[("enabled", "false")])
        .await;
    assert!(loc.contains("#error="), "{loc}");
    let (st, _) = other.get(&path).await;
    assert_eq!(st, 404);
    let (_, loc, _) = other
        .post_page(&rotate, vec![("expirationSigningKey", "0s".into())])
        .await;
    assert!(loc.contains("error="), "{loc}");
    let (_, t) = s.get(&format!("/v2/actions/targets/{id}")).await;
    assert_eq!(t["target"]["name"], "renamed target");

    // Delete.
    let (st, loc) = c.post(&format!("{path}/delete"), &[]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("deleted"), "{loc}");
    let (st, _) = s.get(&format!("/v2/actions/targets/{id}")).await;
    assert_eq!(st, 404);
}

/// Unix milliseconds of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SS[.fff]Z` (days since 2000
/// suffice for differences).
fn time_ms(t: &str) -> i64 {
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let (y, mo, d) = (n(0, 4), n(5, 7), n(8, 10));
    let days_before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][(mo - 1) as usize];
    let leap = (2000..y).filter(|y| y % 4 == 0).count() as i64 + i64::from(mo > 2 && y % 4 == 0);
    let days = (y - 2000) * 365 + leap + days_before + d;
    let secs = days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19);
    let frac = if t.as_bytes()[19] == b'.' {
        n(20, 23)
    } else {
        0
    };
    secs * 1000 + frac
}

#[tokio::test]
async fn executions_are_set_listed_and_deleted() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (t1, _) = target(&s, "audit", &r.url("/t1"), json!({"restWebhook": {}})).await;
    let (t2, _) = target(&s, "billing", &r.url("/t2"), json!({"restCall": {}})).await;
    let c = Console::sign_in(&s, &s.token("admin")).await;
    let (st, page) = c.get("/console/routes/executions/edit").await;
    assert_eq!(st, 200);
    assert!(page.contains("<label for=\"f-entries\">") && page.contains(&t1));

    let method = "/zitadel.user.v2.UserService/AddHumanUser";
    let form = |value: &str, entries: &str| {
        vec![
            ("condition", "request.method".to_string()),
            ("value", value.to_string()),
            ("entries", entries.to_string()),
        ]
    };
    // A method the API does not know: its message beside the value field, values kept.
    let (st, _, page) = c
        .post_page(
            "/console/routes/executions",
            form("/no.Such/Method", "audit"),
        )
        .await;
    assert_eq!(st, 400, "{page}");
    assert!(
        element(&page, "f-value-err").contains("condition.request"),
        "{page}"
    );
    assert!(page.contains("value=\"/no.Such/Method\""));
    // An unknown target: beside the entries.
    let (st, _, page) = c
        .post_page("/console/routes/executions", form(method, "nope"))
        .await;
    assert_eq!(st, 404, "{page}");
    assert!(element(&page, "f-entries-err").contains("nope"), "{page}");

    // An include names a condition with an execution: set one for the event group first.
    let group = vec![
        ("condition", "event.group".to_string()),
        ("value", "user.human".to_string()),
        ("entries", "audit".to_string()),
    ];
    let (st, _, page) = c.post_page("/console/routes/executions", group).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{page}");
    // Targets by name and id, and an include, in order.
    let (st, loc, page) = c
        .post_page(
            "/console/routes/executions",
            form(
                method,
                &format!("audit\n{t2}\ninclude event.group user.human"),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{page}");
    assert!(loc.contains("set"), "{loc}");
    let (_, v) = s
        .post("/resources/v3alpha/actions/executions/_search", json!([]))
        .await;
    let e = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["condition"]["request"].is_object())
        .unwrap();
    assert_eq!(e["condition"]["request"]["method"], method);
    assert_eq!(
        e["execution"]["targets"],
        json!([{"target": t1}, {"target": t2}, {"include": {"event": {"group": "user.human"}}}])
    );
    let (_, page) = c.get("/console/routes").await;
    assert!(page.contains("ZITADEL executions") && page.contains(method));
    assert!(
        page.contains(&format!("{t1} (audit)")) && page.contains("include event.group user.human")
    );
    // The edit form comes back filled.
    let (_, page) = c
        .get(&format!(
            "/console/routes/executions/edit?condition=request.method&value={method}"
        ))
        .await;
    assert!(page.contains(&format!("{t2} (billing)")), "{page}");

    // Another instance cannot delete it.
    let other = Console::sign_in(&s, &s.token_for("other", "admin")).await;
    let (_, loc) = other
        .post(
            "/console/routes/executions/delete",
            &[("condition", "request.method"), ("value", method)],
        )
        .await;
    let (_, v) = s
        .post("/resources/v3alpha/actions/executions/_search", json!([]))
        .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 2, "{loc}");

    let (st, loc) = c
        .post(
            "/console/routes/executions/delete",
            &[("condition", "request.method"), ("value", method)],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.contains("deleted"), "{loc}");
    let (_, v) = s
        .post("/resources/v3alpha/actions/executions/_search", json!([]))
        .await;
    assert_eq!(v["result"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["result"][0]["condition"]["event"].is_object(), "{v}");
}

#[tokio::test]
async fn a_test_invocation_takes_a_custom_input() {
    let s = server_with_schedule("50ms").await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/hook"), json!({"name": "tested"})).await;
    let sub = sub["id"].as_str().unwrap().to_string();
    let c = Console::sign_in(&s, &s.token("admin")).await;
    let path = format!("/console/routes/subscriptions/{sub}/test");
    let (st, page) = c.get(&path).await;
    assert_eq!(st, 200);
    // Prefilled with the trigger's example input.
    let (_, triggers) = s.get("/beta/triggers").await;
    let example = triggers
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "idn:identity-created")
        .unwrap()["exampleInput"]
        .clone();
    let shown: serde_json::Value = serde_json::from_str(&unescape(
        element(&page, "f-input").split_once('>').unwrap().1,
    ))
    .unwrap();
    assert_eq!(shown, example);

    // Not JSON: said beside the input, what was typed kept.
    let (st, _, page) = c
        .post_page(
            "/console/routes/test",
            vec![("subscription", sub.clone()), ("input", "{nope".into())],
        )
        .await;
    assert_eq!(st, 400);
    assert!(element(&page, "f-input-err").contains("not JSON"), "{page}");
    assert!(page.contains("{nope</textarea>"));
    // Refused by the API (schema): its message beside the input.
    let (st, _, page) = c
        .post_page(
            "/console/routes/test",
            vec![("subscription", sub.clone()), ("input", "[1, 2]".into())],
        )
        .await;
    assert_eq!(st, 400, "{page}");
    assert!(
        element(&page, "f-input-err").contains("must be a JSON object"),
        "{page}"
    );
    // An object the trigger's input schema refuses.
    let (st, _, page) = c
        .post_page(
            "/console/routes/test",
            vec![
                ("subscription", sub.clone()),
                ("input", r#"{"identity": 5}"#.into()),
            ],
        )
        .await;
    assert_eq!(st, 400, "{page}");
    let beside = unescape(element(&page, "f-input-err"));
    assert!(beside.contains("identity"), "{beside}");
    assert!(
        page.contains("{&#34;identity&#34;: 5}</textarea>"),
        "{page}"
    );

    // A custom input is what the subscription receives.
    let mut input = example.clone();
    input["identity"]["name"] = json!("Console Custom");
    let (st, loc, _) = c
        .post_page(
            "/console/routes/test",
            vec![("subscription", sub.clone()), ("input", input.to_string())],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/console/deliveries/"), "{loc}");
    let got = r.wait_for(1, std::time::Duration::from_secs(10)).await;
    assert_eq!(got[0].json()["identity"]["name"], "Console Custom");
}

#[tokio::test]
async fn a_system_token_picks_the_instance_it_looks_at_and_others_cannot() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let other_admin = s.token_for("other", "admin");
    let resp = s
        .send_as(
            Some(&other_admin),
            reqwest::Method::POST,
            "/beta/trigger-subscriptions",
            Some(
                json!({"name": "other hook", "triggerId": "idn:identity-created",
                "type": "HTTP", "httpConfig": {"url": r.url("/o")}}),
            ),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let other_sub = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let system = Console::sign_in(&s, &s.token("system")).await;
    let (_, page) = system.get("/console/routes").await;
    assert!(page.contains("id=\"pick-instance\"") && !page.contains("other hook"));
    // Picking `other`: the session keeps it, every page shows that instance.
    let resp = system
        .http
        .post(s.url("/console/instance"))
        .header(COOKIE, &system.cookie)
        .header("origin", &s.base)
        .header("referer", s.url("/console/routes?ok=x"))
        .form(&[("instance", "other"), ("csrf", &system.csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/console/routes");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    let viewing = Console {
        s: &s,
        http: client(),
        cookie: set.split(';').next().unwrap().to_string(),
        csrf: system.csrf.clone(),
    };
    let (_, page) = viewing.get("/console/routes").await;
    assert!(
        page.contains("other hook") && page.contains("value=\"other\""),
        "{page}"
    );
    let (st, _) = viewing.get("/console/deliveries").await;
    assert_eq!(st, 200);
    // And acts there: disabling the other instance's subscription works.
    let (_, loc) = viewing
        .post(
            &format!("/console/routes/subscriptions/{other_sub}/enabled"),
            &[("enabled", "false")],
        )
        .await;
    assert!(loc.contains("ok="), "{loc}");
    let resp = s
        .send_as(
            Some(&other_admin),
            reqwest::Method::GET,
            &format!("/beta/trigger-subscriptions/{other_sub}"),
            None,
        )
        .await;
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["enabled"],
        false
    );

    // An instance admin may not pick another instance.
    let admin = Console::sign_in(&s, &s.token("admin")).await;
    let (_, page) = admin.get("/console/routes").await;
    assert!(!page.contains("id=\"pick-instance\""));
    let (st, _) = admin
        .post("/console/instance", &[("instance", "other")])
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, page) = admin.get("/console/routes").await;
    assert!(!page.contains("other hook"));
}

#[tokio::test]
async fn messages_travel_in_a_sealed_cookie_not_in_the_url() {
    let s = TestServer::start().await;
    let c = Console::sign_in(&s, &s.token("admin")).await;
    // A crafted link cannot put words on a console page, nor can a forged cookie.
    let (_, page) = c.get("/console/routes?error=Your+account+is+locked").await;
    assert!(!page.contains("account is locked"));
    let resp = c
        .http
        .get(s.url("/console/routes"))
        .header(COOKIE, format!("{}; switchyard_flash=v1:x:AAAA", c.cookie))
        .send()
        .await
        .unwrap();
    assert!(!resp.text().await.unwrap().contains("id=\"flash\""));
    // An action's outcome: a 303 to a clean URL with a short-lived HttpOnly cookie; the next
    // page shows it once and clears it (checked by `with_flash`).
    let resp = c
        .http
        .post(s.url("/console/routes/subscriptions/nope/delete"))
        .header(COOKIE, &c.cookie)
        .header("origin", &s.base)
        .form(&[("csrf", &c.csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[LOCATION], "/console/routes");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for flag in [
        "switchyard_flash=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=60",
    ] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    assert!(!set.contains("not found"), "the message is sealed");
    let ((_, loc), _) = c.with_flash(resp).await;
    assert!(
        loc.starts_with("/console/routes#error=") && loc.contains("not+found"),
        "{loc}"
    );
}
