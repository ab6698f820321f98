"""Target public keys through the official ZITADEL SDK (zitadel-client 4.1.9): AddPublicKey,
ActivatePublicKey, DeactivatePublicKey, RemovePublicKey and ListPublicKeys on the Connect surface,
with ZITADEL's rules (new keys inactive, one active key, only inactive keys removable), plus the
same calls on the v2 REST surface."""

import base64
import datetime

import pytest
import requests
import zitadel_client
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from zitadel_client import Zitadel
from zitadel_client.models import (
    ActionServiceActivatePublicKeyRequest,
    ActionServiceAddPublicKeyRequest,
    ActionServiceCreateTargetRequest,
    ActionServiceDeactivatePublicKeyRequest,
    ActionServiceInIDsFilter,
    ActionServiceListPublicKeysRequest,
    ActionServicePaginationRequest,
    ActionServicePublicKeyFieldName,
    ActionServicePublicKeySearchFilter,
    ActionServiceRemovePublicKeyRequest,
    ActionServiceRESTWebhook,
)


def pem_of(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def rsa_pem():
    return pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_pem():
    return pem_of(ec.generate_private_key(ec.SECP256R1()))


def fingerprint(pem):
    der = serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return "SHA256:" + base64.b64encode(digest.finalize()).decode().rstrip("=")


def b64(pem):
    """A proto `bytes` field in JSON: base64."""
    return base64.b64encode(pem).decode()


@pytest.fixture(scope="module")
def actions(server):
    return Zitadel.with_access_token(server.base, server.token(scopes="targets:read targets:write")).actions


def new_target(actions, name):
    return actions.create_target(ActionServiceCreateTargetRequest(
        name=name, endpoint="https://example.com/hook", timeout="10s",
        rest_webhook=ActionServiceRESTWebhook(interrupt_on_error=False))).id


def listed(actions, target_id, **kw):
    return actions.list_public_keys(ActionServiceListPublicKeysRequest(target_id=target_id, **kw)).public_keys or []


def test_public_key_rpcs_and_rules(actions):
    target = new_target(actions, "keys-target")
    rsa_key, ec_key = rsa_pem(), ec_pem()
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    first = actions.add_public_key(ActionServiceAddPublicKeyRequest(
        target_id=target, public_key=b64(rsa_key), expiration_date=expires))
    assert first.key_id and first.creation_date is not None
    second = actions.add_public_key(ActionServiceAddPublicKeyRequest(target_id=target, public_key=b64(ec_key)))

    keys = {k.key_id: k for k in listed(actions, target)}
    assert set(keys) == {first.key_id, second.key_id}
    assert not any(k.active for k in keys.values()), "new keys start inactive"
    assert base64.b64decode(keys[first.key_id].public_key) == rsa_key
    assert keys[first.key_id].fingerprint == fingerprint(rsa_key)
    assert keys[second.key_id].fingerprint == fingerprint(ec_key)
    assert abs((keys[first.key_id].expiration_date - expires).total_seconds()) < 0.001
    assert keys[second.key_id].expiration_date is None
    assert keys[first.key_id].creation_date and keys[first.key_id].change_date

    # One active key: activating the second deactivates the first.
    actions.activate_public_key(ActionServiceActivatePublicKeyRequest(target_id=target, key_id=first.key_id))
    changed = actions.activate_public_key(ActionServiceActivatePublicKeyRequest(target_id=target, key_id=second.key_id))
    assert changed.change_date is not None
    active = [k.key_id for k in listed(actions, target, filters=[ActionServicePublicKeySearchFilter(active_filter=True)])]
    assert active == [second.key_id]

    # Only inactive keys can be removed.
    with pytest.raises(zitadel_client.ApiError) as err:
        actions.remove_public_key(ActionServiceRemovePublicKeyRequest(target_id=target, key_id=second.key_id))
    assert err.value.code == 400
    removed = actions.remove_public_key(ActionServiceRemovePublicKeyRequest(target_id=target, key_id=first.key_id))
    assert removed.deletion_date is not None
    deactivated = actions.deactivate_public_key(
        ActionServiceDeactivatePublicKeyRequest(target_id=target, key_id=second.key_id))
    assert deactivated.change_date is not None
    actions.remove_public_key(ActionServiceRemovePublicKeyRequest(target_id=target, key_id=second.key_id))
    assert listed(actions, target) == []


def test_listing_pages_sorts_and_filters(actions):
    target = new_target(actions, "keys-listing")
    ids = [actions.add_public_key(ActionServiceAddPublicKeyRequest(target_id=target, public_key=b64(ec_pem()))).key_id
           for _ in range(3)]
    page = actions.list_public_keys(ActionServiceListPublicKeysRequest(
        target_id=target, pagination=ActionServicePaginationRequest(offset=1, limit=1, asc=True),
        sorting_column=ActionServicePublicKeyFieldName.PUBLIC_KEY_FIELD_NAME_CREATION_DATE))
    assert int(page.pagination.total_result) == 3
    assert [k.key_id for k in page.public_keys] == [ids[1]]
    by_id = listed(actions, target, filters=[ActionServicePublicKeySearchFilter(
        key_ids_filter=ActionServiceInIDsFilter(ids=[ids[2]]))])
    assert [k.key_id for k in by_id] == [ids[2]]


def test_bad_keys_and_unknown_targets_are_refused(actions):
    target = new_target(actions, "keys-refusals")
    for bad, rule in [(b64(b"not a key"), "PEM"), ("", "required"),
                      (b64(b"-----BEGIN PUBLIC KEY-----\n" + b"A" * 9000 + b"\n-----END PUBLIC KEY-----\n"), "8192")]:
        with pytest.raises(zitadel_client.ApiError) as err:
            actions.add_public_key(ActionServiceAddPublicKeyRequest(target_id=target, public_key=bad))
        assert err.value.code == 400
        assert rule in str(err.value.response_body), err.value.response_body
    with pytest.raises(zitadel_client.ApiError) as err:
        actions.add_public_key(ActionServiceAddPublicKeyRequest(target_id="404", public_key=b64(ec_pem())))
    assert err.value.code == 404
    with pytest.raises(zitadel_client.ApiError) as err:
        actions.activate_public_key(ActionServiceActivatePublicKeyRequest(target_id=target, key_id="404"))
    assert err.value.code == 404


def test_rest_surface(server):
    headers = {"Authorization": "Bearer " + server.token(scopes="targets:read targets:write")}
    base = server.base + "/v2/actions/targets"
    created = requests.post(base, json={"name": "rest-keys", "endpoint": "https://example.com/h", "timeout": "5s",
                                        "restWebhook": {}}, headers=headers)
    assert created.status_code == 200, created.text
    target = created.json()["id"]
    added = requests.post(f"{base}/{target}/publickeys", json={"publicKey": b64(rsa_pem())}, headers=headers)
    assert added.status_code == 200, added.text
    key = added.json()["keyId"]
    assert requests.post(f"{base}/{target}/publickeys/{key}/activate", headers=headers).status_code == 200
    search = requests.post(f"{base}/{target}/publickeys/search", json={}, headers=headers).json()
    assert [(k["keyId"], k["active"]) for k in search["publicKeys"]] == [(key, True)]
    refused = requests.delete(f"{base}/{target}/publickeys/{key}", headers=headers)
    assert refused.status_code == 400 and refused.json()["code"] == 9, refused.text
    assert requests.post(f"{base}/{target}/publickeys/{key}/deactivate", headers=headers).status_code == 200
    assert requests.delete(f"{base}/{target}/publickeys/{key}", headers=headers).status_code == 200
