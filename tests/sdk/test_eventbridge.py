"""EventBridge delivery of SailPoint EVENTBRIDGE subscriptions (seed 004), against moto in server
mode on a free loopback port: a rule on the bus matching the trigger id sends events to an SQS
queue; the test publishes, reads the event back from the queue and checks source, detail-type
and detail. With the endpoint unreachable the attempt fails with a clear error and is retried;
once it is back, the retry succeeds."""

import json
import socket
import time

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from sailpoint.configuration import Configuration, ConfigurationParams
from sailpoint.triggers.api.triggers_api import TriggersApi
from sailpoint.triggers.api_client import ApiClient
from sailpoint.triggers.models.event_bridge_config import EventBridgeConfig
from sailpoint.triggers.models.subscription_post_request import SubscriptionPostRequest

from conftest import Server

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
TRIGGER = "acme:eb-order-created"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_port():
    return free_port()


@pytest.fixture(scope="module")
def moto(moto_port):
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    srv.start()
    yield f"http://127.0.0.1:{moto_port}"
    srv.stop()


@pytest.fixture(scope="module")
def eb_server(moto):
    s = Server({
        "AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SWITCHYARD_RETRY_SCHEDULE": "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,"
                                     "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
        "SWITCHYARD_DELIVERY__POLL_INTERVAL": "100ms",
        "SWITCHYARD_EVENTBRIDGE__SOURCE": "acme.switchyard",
    })
    yield s
    s.stop()


def aws(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def queue(moto):
    """An SQS queue that receives every event of TRIGGER on the default bus."""
    sqs, events = aws("sqs", moto), aws("events", moto)
    url = sqs.create_queue(QueueName=f"eb-{time.time_ns()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"rule-{time.time_ns()}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"detail-type": [TRIGGER]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])
    yield sqs, url
    events.remove_targets(Rule=rule, Ids=["q"])
    events.delete_rule(Name=rule)
    sqs.delete_queue(QueueUrl=url)


def receive(sqs, url, deadline_s=15):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if got.get("Messages"):
            return [json.loads(m["Body"]) for m in got["Messages"]]
    raise AssertionError("no event arrived in the queue")


def setup_subscription(server):
    headers = {"Authorization": f"Bearer {server.token()}"}
    r = requests.post(f"{server.base}/v1/triggers", headers=headers, json={
        "id": TRIGGER, "name": "Order Created", "type": "FIRE_AND_FORGET",
        "inputSchema": json.dumps({"type": "object", "required": ["orderId"]}),
        "exampleInput": {"orderId": "o-1"},
    })
    assert r.status_code in (201, 409), r.text
    params = ConfigurationParams()
    params.base_url = server.base
    params.access_token = server.token()
    with ApiClient(Configuration(params)) as client:
        sub = TriggersApi(client).create_subscription_v1(SubscriptionPostRequest(
            name="to eventbridge", triggerId=TRIGGER, type="EVENTBRIDGE",
            eventBridgeConfig=EventBridgeConfig(awsAccount=ACCOUNT, awsRegion=REGION)))
    return headers, sub.id


def publish(server, headers, order_id):
    r = requests.post(f"{server.base}/v1/events", headers=headers,
                      json={"type": TRIGGER, "payload": {"orderId": order_id}})
    assert r.status_code == 202, r.text
    return r.json()["invocations"][0]["id"]


def invocation(server, headers, inv_id, until, deadline_s=15):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        v = requests.get(f"{server.base}/v1/invocations/{inv_id}", headers=headers).json()
        if until(v):
            return v
        time.sleep(0.05)
    raise AssertionError(f"invocation did not get there: {v}")


def test_put_events_reaches_a_rule_target(eb_server, queue):
    sqs, url = queue
    headers, sub_id = setup_subscription(eb_server)
    inv_id = publish(eb_server, headers, "o-7")
    [event] = receive(sqs, url)
    assert event["source"] == "acme.switchyard"
    assert event["detail-type"] == TRIGGER
    detail = event["detail"]
    assert detail["orderId"] == "o-7"
    assert detail["_metadata"] == {"invocationId": inv_id, "triggerId": TRIGGER,
                                   "triggerType": "fireAndForget"}
    v = invocation(eb_server, headers, inv_id, lambda v: v["status"] == "delivered")
    [attempt] = v["attempts"]
    assert attempt["transport"] == "eventbridge"
    assert attempt["destination"] == f"eventbridge://{REGION}/{ACCOUNT}"
    assert attempt["outcome"] == "delivered"
    assert attempt["responseExcerpt"].startswith("EventId=")
    requests.delete(f"{eb_server.base}/trigger-subscriptions/v1/{sub_id}", headers=headers)


def test_endpoint_down_fails_the_attempt_and_a_retry_succeeds(moto, moto_port, queue):
    sqs, url = queue
    # A server whose endpoint points at a port nothing listens on until the test starts a
    # second moto there (sharing the first one's state is not needed: the rule lives on it).
    down_port = free_port()
    s = Server({
        "AWS_ENDPOINT_URL_EVENTBRIDGE": f"http://127.0.0.1:{down_port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SWITCHYARD_RETRY_SCHEDULE": ",".join(["300ms"] * 40),
        "SWITCHYARD_DELIVERY__POLL_INTERVAL": "100ms",
    })
    second = None
    try:
        headers, _ = setup_subscription(s)
        inv_id = publish(s, headers, "o-8")
        v = invocation(s, headers, inv_id, lambda v: len(v["attempts"]) >= 2)
        assert v["status"] in ("pending", "in_flight"), v  # retried, never given up
        first = v["attempts"][0]
        assert first["outcome"] == "retry" and first["transport"] == "eventbridge"
        assert "EventBridge" in first["error"] and "connection" in first["error"], first
        # The endpoint comes back: a second moto server on that port. Moto servers in one process
        # share their state, so the fixture's rule and queue are already there when the first
        # retry reaches it (a rule created after the start would race with that retry).
        second = ThreadedMotoServer(ip_address="127.0.0.1", port=down_port, verbose=False)
        second.start()
        v = invocation(s, headers, inv_id, lambda v: v["status"] == "delivered")
        assert v["attempts"][-1]["outcome"] == "delivered"
        [event] = receive(sqs, url)
        assert event["detail"]["orderId"] == "o-8" and event["source"] == "switchyard"
    finally:
        if second:
            second.stop()
        s.stop()


def test_partner_mode_creates_the_source_delivers_through_it_and_deletes_it(moto, queue):
    """With `[eventbridge] partner` set, a subscription gets its own partner event source
    (CreatePartnerEventSource), deliveries are PutPartnerEvents entries with that source, moving
    the subscription to another region moves the source, and deleting the subscription deletes
    the source (moto marks it DELETED)."""
    sqs, url = queue
    s = Server({
        "AWS_ENDPOINT_URL": moto,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SWITCHYARD_RETRY_SCHEDULE": ",".join(["200ms"] * 20),
        "SWITCHYARD_DELIVERY__POLL_INTERVAL": "100ms",
        "SWITCHYARD_EVENTBRIDGE__PARTNER": "acme.test",
    })
    try:
        headers, sub_id = setup_subscription(s)
        source = f"aws.partner/acme.test/{sub_id}/idn/acme-eb-order-created"
        events = aws("events", moto)
        described = events.describe_event_source(Name=source)
        assert described["Name"] == source and described["State"] == "ACTIVE", described
        inv_id = publish(s, headers, "o-9")
        [event] = receive(sqs, url)
        assert event["source"] == source
        assert event["detail-type"] == TRIGGER
        assert event["detail"]["orderId"] == "o-9"
        assert event["detail"]["_metadata"]["invocationId"] == inv_id
        v = invocation(s, headers, inv_id, lambda v: v["status"] == "delivered")
        assert v["attempts"][-1]["transport"] == "eventbridge"
        # Moved to another region, the subscription takes its event source along.
        r = requests.patch(
            f"{s.base}/beta/trigger-subscriptions/{sub_id}",
            headers={**headers, "Content-Type": "application/json-patch+json"},
            data=json.dumps([{"op": "replace", "path": "/eventBridgeConfig/awsRegion",
                              "value": "us-west-2"}]))
        assert r.status_code == 200, r.text
        west = boto3.client("events", endpoint_url=moto, region_name="us-west-2",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
        assert west.describe_event_source(Name=source)["State"] == "ACTIVE"
        assert events.describe_event_source(Name=source)["State"] == "DELETED"
        r = requests.delete(f"{s.base}/trigger-subscriptions/v1/{sub_id}", headers=headers)
        assert r.status_code == 204, r.text
        assert west.describe_event_source(Name=source)["State"] == "DELETED"
    finally:
        s.stop()


def test_partner_mode_without_aws_refuses_the_subscription():
    """If the partner event source cannot be created, the subscription is not kept."""
    s = Server({
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SWITCHYARD_EVENTBRIDGE__PARTNER": "acme.test",
    })
    try:
        headers = {"Authorization": f"Bearer {s.token()}"}
        r = requests.post(f"{s.base}/v1/triggers", headers=headers, json={
            "id": TRIGGER, "name": "Order Created", "type": "FIRE_AND_FORGET",
            "inputSchema": json.dumps({"type": "object"}), "exampleInput": {"orderId": "o-1"}})
        assert r.status_code == 201, r.text
        r = requests.post(f"{s.base}/trigger-subscriptions/v1", headers=headers, json={
            "name": "to eventbridge", "triggerId": TRIGGER, "type": "EVENTBRIDGE",
            "eventBridgeConfig": {"awsAccount": ACCOUNT, "awsRegion": REGION}})
        assert r.status_code == 503, r.text
        assert "partner event source" in r.text and "CreatePartnerEventSource" in r.text, r.text
        r = requests.get(f"{s.base}/trigger-subscriptions/v1", headers=headers)
        assert r.json() == [], r.text
    finally:
        s.stop()
