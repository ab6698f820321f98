"""Standard Webhooks compatibility: a SailPoint subscription's deliveries verify with the official
`standardwebhooks` library (1.1.0), unchanged, using the secret read from
`GET /v1/subscriptions/{id}/secret` - also across a secret rotation with a grace period, when
both the old and the new secret must verify the same request."""

import http.server as httpserver
import threading

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

TRIGGER = "idn:identity-created"


class Receiver:
    """A local HTTP receiver in a thread that records every POST and answers 204."""

    def __init__(self):
        self.requests = []
        self.cond = threading.Condition()
        outer = self

        class Handler(httpserver.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.cond:
                    outer.requests.append((self.path, dict(self.headers.items()), body))
                    outer.cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], path)

    def wait_for(self, n, timeout=10):
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.requests) >= n, timeout=timeout)
            assert ok, "timed out waiting for %d request(s); got %d" % (n, len(self.requests))
            return list(self.requests)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def http(server):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + server.token()
    return s


def publish(server, http, name):
    payload = {"identity": {"type": "IDENTITY", "id": "id-" + name, "name": name},
               "attributes": {"department": "Engineering"}}
    r = http.post(server.base + "/v1/events", json={"type": TRIGGER, "payload": payload})
    assert r.status_code == 202, r.text
    return r.json()["invocations"][0]["id"]


def test_deliveries_verify_with_the_official_library(server, http, receiver):
    r = http.post(server.base + "/trigger-subscriptions/v1", json={
        "name": "sw", "triggerId": TRIGGER, "type": "HTTP", "httpConfig": {"url": receiver.url("/sw")}})
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    r = http.get(server.base + "/v1/subscriptions/%s/secret" % sub_id)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert secret.startswith("whsec_")

    invocation = publish(server, http, "ann")
    path, headers, body = receiver.wait_for(1)[0]
    assert path == "/sw"
    assert headers["webhook-id"] == invocation
    payload = Webhook(secret).verify(body, headers)
    assert payload["identity"]["name"] == "ann"
    assert payload["_metadata"] == {"triggerId": TRIGGER, "triggerType": "fireAndForget",
                                    "invocationId": invocation}

    # The library rejects a tampered body and a wrong secret: the check above is meaningful.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(body, headers)

    # Rotation with a grace period: both secrets verify the next delivery.
    r = http.post(server.base + "/v1/subscriptions/%s/secret/rotate" % sub_id, json={"gracePeriod": "PT5M"})
    assert r.status_code == 200, r.text
    new_secret = r.json()["secret"]
    assert new_secret != secret
    publish(server, http, "bob")
    _, headers, body = receiver.wait_for(2)[1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(secret).verify(body, headers)["identity"]["name"] == "bob"
    assert Webhook(new_secret).verify(body, headers)["identity"]["name"] == "bob"
