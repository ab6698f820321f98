"""ZITADEL payload types, checked by independent JOSE implementations: deliveries to a
PAYLOAD_TYPE_JWT target are compact JWS verified by PyJWT with the JWKS fetched from
/oauth/v2/keys (also across a web-key rotation, when the previous key stays published); deliveries
to a PAYLOAD_TYPE_JWE target are compact JWE that jwcrypto decrypts with the private half of the
target's active RSA or EC key; without an active key the attempt fails with a clear error and is
retried until a key is activated. ZITADEL-Signature is sent with every body."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwe as jw_jwe
from jwcrypto import jwk as jw_jwk

from conftest import Server
from test_standardwebhooks import Receiver

EVENT = "user.human.added"


@pytest.fixture(scope="module")
def server():
    # Quick retries, so a delivery that waits for an activated key is seen again soon.
    s = Server(extra_env={"SWITCHYARD_RETRY_SCHEDULE": "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"})
    yield s
    s.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def http(server):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + server.token()
    return s


def make_target(server, http, name, url, payload_type):
    r = http.post(server.base + "/v2/actions/targets", json={
        "name": name, "endpoint": url, "timeout": "5s", "restAsync": {}, "payloadType": payload_type})
    assert r.status_code == 200, r.text
    created = r.json()
    r = http.put(server.base + "/v2/actions/executions", json={
        "condition": {"event": {"event": EVENT}}, "targets": [created["id"]]})
    assert r.status_code == 200, r.text
    return created


def publish(server, http, n):
    r = http.post(server.base + "/v1/events", json={
        "type": EVENT, "payload": {"aggregateID": "u-%d" % n, "event_payload": {"n": n}}})
    assert r.status_code == 202, r.text
    return r.json()["invocations"][0]["id"]


def check_zitadel_signature(headers, body, signing_key):
    t, v1 = None, []
    for part in headers["zitadel-signature"].split(","):
        k, _, v = part.partition("=")
        if k == "t":
            t = v
        elif k == "v1":
            v1.append(v)
    mac = hmac.new(signing_key.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert mac in v1


def jwks_client(server):
    return jwt.PyJWKClient(server.base + "/oauth/v2/keys", cache_keys=False, cache_jwk_set=False)


def test_jwt_payloads_verify_with_the_published_jwks(server, http, receiver):
    target = make_target(server, http, "jwt-target", receiver.url("/jwt"), "PAYLOAD_TYPE_JWT")
    # The JWKS and the OpenID configuration are public.
    conf = requests.get(server.base + "/.well-known/openid-configuration").json()
    assert conf["jwks_uri"] == server.base + "/oauth/v2/keys"
    assert conf["token_endpoint"] == server.base + "/oauth/v2/token"
    # Web keys are generated on first use: the first JWT delivery.
    publish(server, http, 1)
    _, headers, body = receiver.wait_for(1)[0]
    first_jwks = requests.get(conf["jwks_uri"]).json()
    assert [k["alg"] for k in first_jwks["keys"]] == ["RS256"]
    assert headers["content-type"] == "application/jwt"
    check_zitadel_signature(headers, body, target["signingKey"])
    token = body.decode()
    signing_key = jwks_client(server).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["RS256"], options={"verify_aud": False})
    assert claims["event_type"] == EVENT
    assert claims["event_payload"] == {"n": 1}
    old_kid = jwt.get_unverified_header(token)["kid"]
    assert old_kid == first_jwks["keys"][0]["kid"]
    # A tampered token does not verify: the check above means something.
    head, payload, sig = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"event_type": "x"}).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(".".join([head, forged, sig]), signing_key.key, algorithms=["RS256"])

    # Rotation to ES256 with a grace period: new deliveries carry the new kid, and the JWKS
    # publishes both keys, so the earlier token still verifies.
    r = http.post(server.base + "/v1/web-keys/rotate", json={"algorithm": "ES256", "gracePeriod": "PT1H"})
    assert r.status_code == 200, r.text
    new_kid = r.json()["keyId"]
    assert new_kid != old_kid
    publish(server, http, 2)
    _, headers, body = receiver.wait_for(2)[1]
    check_zitadel_signature(headers, body, target["signingKey"])
    client = jwks_client(server)
    assert [k.key_id for k in client.get_signing_keys()] == [new_kid, old_kid]
    new_token = body.decode()
    assert jwt.get_unverified_header(new_token) == {"alg": "ES256", "kid": new_kid, "typ": "JWT"}
    claims = jwt.decode(new_token, client.get_signing_key_from_jwt(new_token).key, algorithms=["ES256"])
    assert claims["event_payload"] == {"n": 2}
    assert jwt.decode(token, client.get_signing_key_from_jwt(token).key, algorithms=["RS256"])["event_payload"] == {"n": 1}

    # Without a grace period the previous key leaves the JWKS at once.
    r = http.post(server.base + "/v1/web-keys/rotate", json={"gracePeriod": "PT0S"})
    assert r.status_code == 200, r.text
    kids = [k["kid"] for k in requests.get(conf["jwks_uri"]).json()["keys"]]
    assert kids == [r.json()["keyId"]]


def private_pem_and_public(kind):
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def add_key(server, http, target_id, public_pem, activate=True):
    r = http.post(server.base + "/v2/actions/targets/%s/publickeys" % target_id,
                  json={"publicKey": base64.b64encode(public_pem).decode()})
    assert r.status_code == 200, r.text
    key_id = r.json()["keyId"]
    if activate:
        r = http.post(server.base + "/v2/actions/targets/%s/publickeys/%s/activate" % (target_id, key_id))
        assert r.status_code == 200, r.text
    return key_id


@pytest.mark.parametrize("kind,alg", [("rsa", "RSA-OAEP-256"), ("ec", "ECDH-ES+A256KW")])
def test_jwe_payloads_decrypt_with_the_targets_private_key(server, http, receiver, kind, alg):
    target = make_target(server, http, "jwe-" + kind, receiver.url("/jwe"), "PAYLOAD_TYPE_JWE")
    private, public = private_pem_and_public(kind)
    key_id = add_key(server, http, target["id"], public)
    publish(server, http, 3)
    _, headers, body = receiver.wait_for(1)[0]
    assert headers["content-type"] == "application/jose"
    check_zitadel_signature(headers, body, target["signingKey"])
    token = jw_jwe.JWE()
    token.deserialize(body.decode(), key=jw_jwk.JWK.from_pem(private))
    assert token.jose_header["alg"] == alg
    assert token.jose_header["enc"] == "A256GCM"
    assert token.jose_header["kid"] == key_id
    claims = json.loads(token.payload)
    assert claims["event_type"] == EVENT and claims["event_payload"] == {"n": 3}
    # Another key cannot decrypt it.
    other, _ = private_pem_and_public(kind)
    with pytest.raises(Exception):
        jw_jwe.JWE().deserialize(body.decode(), key=jw_jwk.JWK.from_pem(other))


def test_jwe_without_an_active_key_fails_and_is_retried(server, http, receiver):
    target = make_target(server, http, "jwe-later", receiver.url("/later"), "PAYLOAD_TYPE_JWE")
    private, public = private_pem_and_public("rsa")
    key_id = add_key(server, http, target["id"], public, activate=False)
    invocation = publish(server, http, 4)
    deadline = time.time() + 20
    attempts = []
    while time.time() < deadline and not attempts:
        r = http.get(server.base + "/v1/invocations/%s" % invocation)
        assert r.status_code == 200, r.text
        attempts = r.json().get("attempts", [])
        time.sleep(0.1)
    assert attempts, "no attempt recorded"
    assert "no active, unexpired public key" in attempts[0]["error"]
    assert r.json()["status"] in ("pending", "in_flight")
    assert receiver.requests == []
    # An operator activates the key: the next try goes out, encrypted to it.
    r = http.post(server.base + "/v2/actions/targets/%s/publickeys/%s/activate" % (target["id"], key_id))
    assert r.status_code == 200, r.text
    _, headers, body = receiver.wait_for(1, timeout=20)[0]
    token = jw_jwe.JWE()
    token.deserialize(body.decode(), key=jw_jwk.JWK.from_pem(private))
    assert json.loads(token.payload)["event_payload"] == {"n": 4}
