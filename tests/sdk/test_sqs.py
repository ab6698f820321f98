"""SQS delivery (`sqs://REGION/ACCOUNT/QUEUE` as a SailPoint subscription's httpConfig.url),
against moto in server mode on a free loopback port: deliveries to a standard and a FIFO queue
are read back with boto3, their body and message attributes checked, and the signature verified
with the standardwebhooks library. With the endpoint unreachable the attempt fails with a clear
error and is retried; once it is back, the retry succeeds. A message longer than the queue takes
fails at once, without retries. A profile that assumes a role (STS at moto) signs the deliveries.
Malformed sqs URLs are 400s naming
the field in both dialects."""

import json
import socket
import time

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from standardwebhooks import Webhook

from conftest import Server

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
TRIGGER = "acme:sqs-order-created"
FAST = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "SWITCHYARD_RETRY_SCHEDULE": ",".join(["300ms"] * 40),
    "SWITCHYARD_DELIVERY__POLL_INTERVAL": "100ms",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    port = free_port()
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    yield f"http://127.0.0.1:{port}"
    srv.stop()


@pytest.fixture(scope="module")
def sqs_server(moto):
    s = Server({"AWS_ENDPOINT_URL_SQS": moto, **FAST})
    yield s
    s.stop()


def sqs_client(endpoint):
    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def queues(moto):
    """A standard and a FIFO queue, deleted afterwards."""
    sqs = sqs_client(moto)
    stem = f"sy-{time.time_ns()}"
    std = sqs.create_queue(QueueName=stem)["QueueUrl"]
    fifo = sqs.create_queue(QueueName=stem + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    yield sqs, stem
    sqs.delete_queue(QueueUrl=std)
    sqs.delete_queue(QueueUrl=fifo)


def http(server):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + server.token()
    return s


def ensure_trigger(server, session):
    r = session.post(f"{server.base}/v1/triggers", json={
        "id": TRIGGER, "name": "Order Created", "type": "FIRE_AND_FORGET",
        "inputSchema": json.dumps({"type": "object", "required": ["orderId"]}),
        "exampleInput": {"orderId": "o-1"},
    })
    assert r.status_code in (201, 409), r.text


def subscribe(server, session, url):
    ensure_trigger(server, session)
    r = session.post(f"{server.base}/trigger-subscriptions/v1", json={
        "name": "to sqs", "triggerId": TRIGGER, "type": "HTTP", "httpConfig": {"url": url}})
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    secret = session.get(f"{server.base}/v1/subscriptions/{sub_id}/secret").json()["secret"]
    return sub_id, secret


def publish(server, session, order_id):
    r = session.post(f"{server.base}/v1/events", json={"type": TRIGGER, "payload": {"orderId": order_id}})
    assert r.status_code == 202, r.text
    return [i["id"] for i in r.json()["invocations"]]


def invocation(server, session, inv_id, until, deadline_s=20):
    deadline = time.time() + deadline_s
    v = None
    while time.time() < deadline:
        v = session.get(f"{server.base}/v1/invocations/{inv_id}").json()
        if until(v):
            return v
        time.sleep(0.05)
    raise AssertionError(f"invocation did not get there: {v}")


def receive(sqs, url, deadline_s=15):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  MessageAttributeNames=["All"], AttributeNames=["All"])
        if got.get("Messages"):
            return got["Messages"]
    raise AssertionError("no message arrived in the queue")


def test_standard_and_fifo_queues_get_the_body_and_the_signed_metadata(sqs_server, moto, queues):
    sqs, stem = queues
    s = http(sqs_server)
    subs = {q: subscribe(sqs_server, s, f"sqs://{REGION}/{ACCOUNT}/{q}") for q in (stem, stem + ".fifo")}
    inv_ids = publish(sqs_server, s, "o-7")
    assert len(inv_ids) == 2
    for queue, (sub_id, secret) in subs.items():
        [m] = receive(sqs, sqs.get_queue_url(QueueName=queue)["QueueUrl"])
        body = json.loads(m["Body"])
        assert body["orderId"] == "o-7"
        assert body["_metadata"]["triggerId"] == TRIGGER
        inv_id = body["_metadata"]["invocationId"]
        assert inv_id in inv_ids
        attrs = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
        assert attrs["content-type"] == "application/json"
        assert attrs["webhook-id"] == inv_id
        assert set(attrs) == {"content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}
        # The signature verifies with the subscription's secret, as over HTTP.
        Webhook(secret).verify(m["Body"], attrs)
        if queue.endswith(".fifo"):
            assert m["Attributes"]["MessageGroupId"] == inv_id
            assert m["Attributes"]["MessageDeduplicationId"] == inv_id
        v = invocation(sqs_server, s, inv_id, lambda v: v["status"] == "delivered")
        [attempt] = v["attempts"]
        assert attempt["transport"] == "sqs"
        assert attempt["destination"] == f"sqs://{REGION}/{ACCOUNT}/{queue}"
        assert attempt["responseExcerpt"].startswith("MessageId=")
        assert s.delete(f"{sqs_server.base}/trigger-subscriptions/v1/{sub_id}").status_code == 204
    scraper = {"Authorization": "Bearer " + sqs_server.token(scopes="metrics:read")}
    metrics = requests.get(f"{sqs_server.base}/metrics", headers=scraper).text
    line = 'switchyard_transport_deliveries_total{transport="sqs",outcome="delivered"} '
    assert line + "2" in metrics, [l for l in metrics.splitlines() if 'transport="sqs"' in l]


def test_a_missing_queue_is_a_failed_attempt_naming_it(sqs_server):
    s = http(sqs_server)
    sub_id, _ = subscribe(sqs_server, s, f"sqs://{REGION}/{ACCOUNT}/no-such-queue-{time.time_ns()}")
    [inv_id] = publish(sqs_server, s, "o-9")
    v = invocation(sqs_server, s, inv_id, lambda v: len(v["attempts"]) >= 1)
    first = v["attempts"][0]
    assert first["outcome"] == "retry" and "SQS SendMessage" in first["error"], first
    assert "QueueDoesNotExist" in first["error"] or "NonExistentQueue" in first["error"], first
    s.delete(f"{sqs_server.base}/trigger-subscriptions/v1/{sub_id}")


def test_a_message_too_long_for_the_queue_fails_at_once(sqs_server, moto):
    sqs = sqs_client(moto)
    name = f"sy-small-{time.time_ns()}"
    url = sqs.create_queue(QueueName=name, Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    try:
        s = http(sqs_server)
        sub_id, _ = subscribe(sqs_server, s, f"sqs://{REGION}/{ACCOUNT}/{name}")
        r = s.post(f"{sqs_server.base}/v1/events",
                   json={"type": TRIGGER, "payload": {"orderId": "o-big", "note": "x" * 2000}})
        assert r.status_code == 202, r.text
        [inv_id] = [i["id"] for i in r.json()["invocations"]]
        v = invocation(sqs_server, s, inv_id, lambda v: v["status"] == "failed")
        # SQS's answer is about the message itself: no retry could change it.
        [attempt] = v["attempts"]
        assert attempt["outcome"] == "failed", attempt
        assert "cannot take this message" in attempt["error"], attempt
        assert "SQS SendMessage" in attempt["error"], attempt
        s.delete(f"{sqs_server.base}/trigger-subscriptions/v1/{sub_id}")
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_a_profile_that_assumes_a_role_delivers(moto, queues, tmp_path):
    """No keys in the environment: the profile names a role to assume (STS AssumeRole at moto,
    signed with the source profile's keys), and the role's credentials sign SendMessage."""
    sqs, stem = queues
    config = tmp_path / "config"
    config.write_text(
        "[profile hooks]\nrole_arn = arn:aws:iam::123456789012:role/hooks\nsource_profile = base\n"
        "[profile base]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        "[profile orphan]\nrole_arn = arn:aws:iam::123456789012:role/hooks\nsource_profile = nobody\n")
    env = {**FAST, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": moto,
           "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
           "AWS_PROFILE": "hooks"}
    srv = Server(env)
    try:
        s = http(srv)
        subscribe(srv, s, f"sqs://{REGION}/{ACCOUNT}/{stem}")
        [inv_id] = publish(srv, s, "o-role")
        invocation(srv, s, inv_id, lambda v: v["status"] == "delivered")
        [m] = receive(sqs, sqs.get_queue_url(QueueName=stem)["QueueUrl"])
        assert json.loads(m["Body"])["orderId"] == "o-role"
    finally:
        srv.stop()
    srv = Server({**env, "AWS_PROFILE": "orphan"})
    try:
        s = http(srv)
        subscribe(srv, s, f"sqs://{REGION}/{ACCOUNT}/{stem}")
        [inv_id] = publish(srv, s, "o-orphan")
        v = invocation(srv, s, inv_id, lambda v: len(v["attempts"]) >= 1)
        assert "source_profile nobody has no credentials" in v["attempts"][0]["error"], v
    finally:
        srv.stop()


def test_endpoint_down_fails_the_attempt_and_a_retry_succeeds(moto, queues):
    sqs, stem = queues
    down_port = free_port()
    srv = Server({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{down_port}", **FAST})
    second = None
    try:
        s = http(srv)
        subscribe(srv, s, f"sqs://{REGION}/{ACCOUNT}/{stem}")
        [inv_id] = publish(srv, s, "o-8")
        v = invocation(srv, s, inv_id, lambda v: len(v["attempts"]) >= 2)
        assert v["status"] in ("pending", "in_flight"), v  # retried, never given up
        first = v["attempts"][0]
        assert first["outcome"] == "retry" and first["transport"] == "sqs"
        assert "SQS" in first["error"] and "connection" in first["error"], first
        # Moto servers in one process share their state: a second one on the down port has the
        # fixture's queue, so the next retry delivers.
        second = ThreadedMotoServer(ip_address="127.0.0.1", port=down_port, verbose=False)
        second.start()
        v = invocation(srv, s, inv_id, lambda v: v["status"] == "delivered")
        assert v["attempts"][-1]["outcome"] == "delivered"
        [m] = receive(sqs, sqs.get_queue_url(QueueName=stem)["QueueUrl"])
        assert json.loads(m["Body"])["orderId"] == "o-8"
    finally:
        if second:
            second.stop()
        srv.stop()


@pytest.mark.parametrize("url,needle", [
    (f"sqs://{REGION}/{ACCOUNT}", "no queue"),
    (f"sqs://evil.example.com/{ACCOUNT}/q", "not an AWS region"),
    (f"sqs://{REGION}/1234/q", "account id"),
    (f"sqs://{REGION}/{ACCOUNT}/bad.name", "queue name"),
])
def test_malformed_sqs_urls_are_400s_in_both_dialects(sqs_server, url, needle):
    s = http(sqs_server)
    ensure_trigger(sqs_server, s)
    r = s.post(f"{sqs_server.base}/trigger-subscriptions/v1", json={
        "name": "bad", "triggerId": TRIGGER, "type": "HTTP", "httpConfig": {"url": url}})
    assert r.status_code == 400, r.text
    assert "httpConfig.url" in r.text and needle in r.text, r.text
    r = s.post(f"{sqs_server.base}/v2/actions/targets", json={
        "name": f"bad-{time.time_ns()}", "restWebhook": {}, "endpoint": url, "timeout": "5s"})
    assert r.status_code == 400, r.text
    assert "endpoint" in r.text and needle in r.text, r.text
