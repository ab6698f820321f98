"""CloudEvents delivery: a subscription (and a ZITADEL target) whose policy sets `format` to
`cloudevents-structured` or `cloudevents-binary` gets requests the official CloudEvents SDK for
Python (PyPI `cloudevents`) parses, unchanged, into events carrying the webhook id, a source URI
naming the instance and route, the trigger type, the acceptance time and the payload as data.
The Standard Webhooks signature verifies over the body exactly as sent."""

import pytest
import requests
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from standardwebhooks.webhooks import Webhook

from test_standardwebhooks import Receiver

TRIGGER = "idn:identity-created"


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


def subscription_with_format(server, http, receiver, fmt):
    r = http.post(server.base + "/trigger-subscriptions/v1", json={
        "name": "ce-" + fmt, "triggerId": TRIGGER, "type": "HTTP",
        "httpConfig": {"url": receiver.url("/" + fmt)}})
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    r = http.put(server.base + "/v1/subscriptions/%s/policy" % sub_id, json={"format": fmt})
    assert r.status_code == 200, r.text
    assert r.json() == {"format": fmt}
    secret = http.get(server.base + "/v1/subscriptions/%s/secret" % sub_id).json()["secret"]
    return sub_id, secret


def publish(server, http, name, sub_id):
    """Publishes one event; returns the id of its invocation for `sub_id` and the payload."""
    payload = {"identity": {"type": "IDENTITY", "id": "id-" + name, "name": name},
               "attributes": {"department": "Engineering"}}
    r = http.post(server.base + "/v1/events", json={"type": TRIGGER, "payload": payload})
    assert r.status_code == 202, r.text
    mine = [i["id"] for i in r.json()["invocations"] if i["routeId"] == sub_id]
    assert len(mine) == 1, r.text
    return mine[0], payload


@pytest.mark.parametrize("fmt", ["cloudevents-structured", "cloudevents-binary"])
def test_deliveries_parse_with_the_official_sdk(server, http, receiver, fmt):
    sub_id, secret = subscription_with_format(server, http, receiver, fmt)
    invocation, payload = publish(server, http, "ann", sub_id)
    path, headers, body = receiver.wait_for(1)[0]
    assert path == "/" + fmt
    lowered = {k.lower(): v for k, v in headers.items()}
    if fmt == "cloudevents-structured":
        assert lowered["content-type"] == "application/cloudevents+json"
        assert not any(k.startswith("ce-") for k in lowered)
    else:
        assert lowered["content-type"] == "application/json"
        assert lowered["ce-id"] == invocation

    event = from_http_event(HTTPMessage(headers=lowered, body=body))
    assert event.get_specversion() == "1.0"
    assert event.get_id() == invocation
    assert event.get_type() == TRIGGER
    assert event.get_source().endswith("/instances/default/subscriptions/" + sub_id)
    assert event.get_time() is not None
    assert event.get_data() == payload
    if fmt == "cloudevents-structured":
        assert event.get_datacontenttype() == "application/json"

    # The signature covers the body as it was sent.
    Webhook(secret).verify(body, headers)


def test_a_target_gets_cloudevents_too(server, http, receiver):
    r = http.post(server.base + "/resources/v3alpha/actions/targets", json={
        "name": "ce-target", "endpoint": receiver.url("/t"), "timeout": "5s", "restWebhook": {}})
    assert r.status_code == 201, r.text
    target_id = r.json()["details"]["id"]
    r = http.put(server.base + "/resources/v3alpha/actions/executions", json={
        "condition": {"event": {"event": "user.human.added"}},
        "execution": {"targets": [{"target": target_id}]}})
    assert r.ok, r.text
    r = http.put(server.base + "/v1/targets/%s/policy" % target_id,
                 json={"format": "cloudevents-structured"})
    assert r.status_code == 200, r.text
    r = http.post(server.base + "/v1/events",
                  json={"type": "user.human.added", "payload": {"userName": "cy"}})
    assert r.status_code == 202, r.text
    _, headers, body = receiver.wait_for(1)[0]
    event = from_http_event(HTTPMessage(headers={k.lower(): v for k, v in headers.items()}, body=body))
    assert event.get_type() == "user.human.added"
    assert event.get_source().endswith("/instances/default/targets/" + target_id)
    assert event.get_data() == {"userName": "cy"}
