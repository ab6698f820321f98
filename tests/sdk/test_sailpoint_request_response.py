"""Request-response hooks through the official SailPoint SDK: a local ASYNC subscriber receives the
invocation, and the SDK's complete_trigger_invocation_v1 completes it with the delivered secret."""

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from sailpoint.configuration import Configuration, ConfigurationParams
from sailpoint.triggers.api.triggers_api import TriggersApi
from sailpoint.triggers.api_client import ApiClient
from sailpoint.triggers.exceptions import ApiException
from sailpoint.triggers.models.complete_invocation import CompleteInvocation
from sailpoint.triggers.models.http_config import HttpConfig
from sailpoint.triggers.models.subscription_post_request import SubscriptionPostRequest
from sailpoint.triggers.models.test_invocation import TestInvocation as TestInvocationInput

TRIGGER = "acme:sdk-approve"


@pytest.fixture
def sdk(server):
    params = ConfigurationParams()
    params.base_url = server.base
    params.access_token = server.token()
    with ApiClient(Configuration(params)) as client:
        yield TriggersApi(client)


@pytest.fixture
def receiver():
    """A subscriber answering 200 {} and handing every body to the test."""
    bodies = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", 0))
            bodies.put(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", bodies
    httpd.shutdown()


def test_async_invocation_completed_through_the_sdk(server, sdk, receiver):
    url, bodies = receiver
    headers = {"Authorization": f"Bearer {server.token()}"}
    r = requests.post(f"{server.base}/v1/triggers", headers=headers, json={
        "id": TRIGGER, "name": "SDK Approve", "type": "REQUEST_RESPONSE",
        "inputSchema": json.dumps({"type": "object", "required": ["orderId"]}),
        "exampleInput": {"orderId": "o-1"},
        "outputSchema": {"type": "object", "required": ["approved"],
                         "properties": {"approved": {"type": "boolean"}}},
        "exampleOutput": {"approved": True},
    })
    assert r.status_code == 201, r.text
    sdk.create_subscription_v1(SubscriptionPostRequest(
        name="approver", trigger_id=TRIGGER, type="HTTP", response_deadline="PT1M",
        http_config=HttpConfig(url=url, http_dispatch_mode="ASYNC")))

    started = requests.post(f"{server.base}/trigger-invocations/v1/start", headers=headers,
                            json={"triggerId": TRIGGER, "input": {"orderId": "o-7"}, "contentJson": {}})
    assert started.status_code == 200, started.text
    inv = started.json()[0]
    meta = bodies.get(timeout=10)["_metadata"]
    assert meta["invocationId"] == inv["id"] and meta["secret"] == inv["secret"]

    with pytest.raises(ApiException) as err:
        sdk.complete_trigger_invocation_v1(inv["id"], CompleteInvocation(secret="wrong", output={"approved": True}))
    assert err.value.status == 401
    sdk.complete_trigger_invocation_v1(inv["id"], CompleteInvocation(secret=meta["secret"], output={"approved": True}))
    with pytest.raises(ApiException) as err:
        sdk.complete_trigger_invocation_v1(inv["id"], CompleteInvocation(secret=meta["secret"], output={"approved": False}))
    assert err.value.status == 409

    rows = sdk.list_trigger_invocation_status_v1(filters=f'triggerId eq "{TRIGGER}"')
    row = next(r for r in rows if r.id == inv["id"])
    assert row.complete_invocation_input.output == {"approved": True}
    assert row.completed is not None

    # Test invocations of a request-response trigger are dispatched the same way.
    tests = sdk.start_test_trigger_invocation_v1(TestInvocationInput(trigger_id=TRIGGER, content_json={"t": 1}))
    assert len(tests) == 1
    meta = bodies.get(timeout=10)["_metadata"]
    assert meta["triggerType"] == "requestResponse" and meta["secret"] == tests[0].secret
    sdk.complete_trigger_invocation_v1(tests[0].id, CompleteInvocation(secret=tests[0].secret, output={"approved": False}))
