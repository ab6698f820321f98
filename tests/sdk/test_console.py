"""The web console in a real browser: Debian's Chromium driven by Playwright (Python), against the
real binary. Signs in, sees a subscription and a target, sends a test invocation to a failing
receiver, finds it among the failed deliveries, opens its attempts, replays it once the receiver
is back and sees it delivered; creates, edits (JSON Patch preview) and deletes a subscription,
with a validation error shown beside its field; rotates a target's key; a form posted from
another origin is refused; a token of another instance sees none of it. Saves screenshots of the main pages to docs/console/."""

import http.server as httpserver
import os
import threading
import time

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from conftest import ROOT, Server

CHROMIUM = os.environ.get("SWITCHYARD_CHROMIUM", "/usr/bin/chromium")
SHOTS = os.path.join(ROOT, "docs", "console")


class Receiver:
    """Answers POSTs with `status` (500 'receiver down' until the test says otherwise) and serves
    a page at /evil that posts a form to the console from this other origin."""

    def __init__(self):
        self.status = 500
        self.evil_html = b""
        outer = self

        class Handler(httpserver.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b"receiver down" if outer.status >= 400 else b"ok"
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(outer.evil_html)))
                self.end_headers()
                self.wfile.write(outer.evil_html)

            def log_message(self, *args):
                pass

        self.httpd = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fast_server():
    # Two quick attempts, so a failing delivery is `failed` within a second.
    s = Server({"SWITCHYARD_RETRY_SCHEDULE": "100ms", "SWITCHYARD_DELIVERY__POLL_INTERVAL": "200ms"})
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium not found at %s (apt-get install chromium)" % CHROMIUM)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def api(server, token, method, path, **kw):
    r = requests.request(method, server.base + path, headers={"Authorization": "Bearer " + token}, timeout=10, **kw)
    assert r.status_code < 300, r.text
    return r.json() if r.text else None


def wait_status(server, token, inv, status):
    deadline = time.time() + 15
    while time.time() < deadline:
        got = api(server, token, "GET", "/v1/invocations/" + inv)["status"]
        if got == status:
            return
        time.sleep(0.1)
    raise AssertionError("invocation %s did not become %s (is %s)" % (inv, status, got))


def sign_in(page, server, token):
    page.goto(server.base + "/console")
    expect(page).to_have_url(server.base + "/console/sign-in")
    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_console_in_a_browser(fast_server, browser):
    s = fast_server
    admin = s.token(scopes="admin metrics:read")
    r = Receiver()
    try:
        sub = api(s, admin, "POST", "/beta/trigger-subscriptions", json={
            "name": "console hook", "triggerId": "idn:identity-created", "type": "HTTP",
            "httpConfig": {"url": r.url("/hook")}})
        target = api(s, admin, "POST", "/v2/actions/targets", json={
            "name": "audit target", "endpoint": r.url("/target"), "timeout": "5s", "restWebhook": {}})
        api(s, admin, "PUT", "/resources/v3alpha/actions/executions", json={
            "condition": {"event": {"group": "user.human"}},
            "execution": {"targets": [{"target": target["id"]}]}})

        ctx = browser.new_context(viewport={"width": 1280, "height": 860})
        page = ctx.new_page()
        page.goto(s.base + "/console/sign-in")
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, "sign-in.png"))
        sign_in(page, s, admin)

        # Routes: the subscription and the target; a test invocation to the failing receiver.
        page.get_by_role("link", name="Routes", exact=True).click()
        expect(page.get_by_role("cell", name="console hook").first).to_be_visible()
        expect(page.get_by_role("cell", name="audit target").first).to_be_visible()
        expect(page.get_by_role("cell", name="event.group user.human", exact=True)).to_be_visible()
        page.screenshot(path=os.path.join(SHOTS, "routes.png"), full_page=True)

        # A subscription created, edited (with its JSON Patch previewed) and deleted through the
        # browser; the API's validation message appears beside the field it names.
        page.get_by_role("link", name="New subscription").click()
        page.get_by_label("Name", exact=True).fill("browser hook")
        page.get_by_label("Trigger").select_option("idn:identity-created")
        page.get_by_label("URL", exact=True).fill("not a url")
        page.get_by_role("button", name="Create subscription").click()
        url_field = page.get_by_label("URL", exact=True)
        expect(page.locator("#f-url-err")).to_contain_text("httpConfig.url")
        expect(url_field).to_have_attribute("aria-invalid", "true")
        expect(url_field).to_have_attribute("aria-describedby", "f-url-err")
        expect(url_field).to_be_focused()  # keyboard users land on the field to fix
        expect(page.get_by_role("alert")).to_contain_text("URL")
        expect(page.get_by_label("Name", exact=True)).to_have_value("browser hook")
        page.screenshot(path=os.path.join(SHOTS, "subscription-error.png"), full_page=True)
        url_field.fill(r.url("/browser"))
        page.get_by_role("button", name="Create subscription").click()
        expect(page.get_by_role("status")).to_contain_text("created")
        page.get_by_role("link", name="Edit browser hook").click()
        page.get_by_label("URL", exact=True).fill(r.url("/browser2"))
        page.get_by_role("button", name="Preview changes").click()
        expect(page.locator("#patch-preview")).to_contain_text('"path": "/httpConfig/url"')
        expect(page.locator("#patch-preview")).to_contain_text(r.url("/browser2"))
        page.screenshot(path=os.path.join(SHOTS, "subscription-edit.png"), full_page=True)
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("status")).to_contain_text("updated")
        created = [x for x in api(s, admin, "GET", "/beta/trigger-subscriptions") if x["name"] == "browser hook"]
        assert created and created[0]["httpConfig"]["url"] == r.url("/browser2"), created
        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="Delete browser hook").click()
        expect(page.get_by_role("status")).to_contain_text("deleted")
        expect(page.get_by_role("cell", name="browser hook")).to_have_count(0)
        assert not [x for x in api(s, admin, "GET", "/beta/trigger-subscriptions") if x["name"] == "browser hook"]

        # The target's page: its form and the key rotation.
        page.get_by_role("link", name="Edit audit target").click()
        page.get_by_label("Grace period of the previous key").fill("3600s")
        page.get_by_role("button", name="Rotate signing key").click()
        expect(page.get_by_role("status")).to_contain_text("keeps signing for 3600s, until")
        page.screenshot(path=os.path.join(SHOTS, "target.png"), full_page=True)

        # A test invocation with the trigger's example input (the form is prefilled).
        page.get_by_role("link", name="Routes", exact=True).click()
        page.get_by_role("link", name="Send a test invocation to console hook").click()
        expect(page.get_by_label("Input (JSON)")).to_contain_text("identity")
        page.screenshot(path=os.path.join(SHOTS, "test-invocation.png"), full_page=True)
        page.get_by_role("button", name="Send test invocation").click()
        expect(page.get_by_role("status")).to_contain_text("Test invocation sent")
        inv = page.locator("h1 .mono").inner_text().strip()
        wait_status(s, admin, inv, "failed")

        # Deliveries filtered by status: there it is; its attempts say why.
        page.get_by_role("link", name="Deliveries", exact=True).click()
        page.get_by_label("Status").first.select_option("failed")
        page.get_by_role("button", name="Filter").click()
        link = page.get_by_role("link", name=inv)
        expect(link).to_be_visible()
        page.screenshot(path=os.path.join(SHOTS, "deliveries.png"), full_page=True)
        link.click()
        expect(page.locator("#inv-status")).to_have_text("failed")
        expect(page.get_by_role("heading", name="Attempt 2")).to_be_visible()
        expect(page.get_by_text("receiver down").first).to_be_visible()
        page.screenshot(path=os.path.join(SHOTS, "delivery.png"), full_page=True)

        # A form posted to the console from another origin is refused; nothing happens.
        r.evil_html = (
            '<form id="f" method="post" action="%s/console/deliveries/%s/replay">'
            '<input name="csrf" value="guess"></form>'
            '<script>document.getElementById("f").submit()</script>' % (s.base, inv)).encode()
        evil = ctx.new_page()
        with evil.expect_navigation(url=lambda u: u.startswith(s.base)) as nav:
            evil.goto(r.url("/evil"))
        assert nav.value.status in (401, 403), nav.value.status
        evil.close()
        wait_status(s, admin, inv, "failed")

        # The receiver recovers: replay, and the invocation is delivered.
        r.status = 200
        page.get_by_role("button", name="Replay").click()
        expect(page.get_by_role("status")).to_contain_text("Queued again")
        wait_status(s, admin, inv, "delivered")
        page.goto(s.base + "/console/deliveries/" + inv)
        expect(page.locator("#inv-status")).to_have_text("delivered")

        # The overview draws its charts.
        page.get_by_role("link", name="Overview", exact=True).click()
        expect(page.locator("#charts .uplot").first).to_be_visible()
        page.screenshot(path=os.path.join(SHOTS, "overview.png"), full_page=True)

        # Narrow screens get one column (no horizontal scrolling of the page itself).
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(s.base + "/console/deliveries")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=os.path.join(SHOTS, "deliveries-phone.png"))
        page.goto(s.base + "/console/routes/subscriptions/new")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=os.path.join(SHOTS, "subscription-phone.png"))
        page.goto(s.base + "/console/deliveries")

        # Keyboard: the skip link is the first stop and jumps to the content.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        ctx.close()

        # Another instance's token sees none of it.
        other = browser.new_context()
        op = other.new_page()
        sign_in(op, s, s.token(scopes="admin", instance="other"))
        op.goto(s.base + "/console/deliveries")
        expect(op.get_by_text("no deliveries match")).to_be_visible()
        assert inv not in op.content()
        op.goto(s.base + "/console/routes")
        assert "console hook" not in op.content()
        assert sub["id"] not in op.content()
        op.goto(s.base + "/console/deliveries/" + inv)
        expect(op.get_by_role("heading", name="Error 404")).to_be_visible()
        other.close()
    finally:
        r.stop()
