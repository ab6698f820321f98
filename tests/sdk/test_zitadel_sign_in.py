"""The zitadel-client SDK's three ways to sign in, each driving the whole v2 ActionService
unchanged: `with_access_token` (a minted token), `with_client_credentials` (a client id and
secret exchanged at /oauth/v2/token, found through /.well-known/openid-configuration) and
`with_private_key` (the key file `switchyard clients create --key-file` writes, exchanged with
the JWT profile grant). Each runs create/update/get/list/delete target, set/list execution, the
five public-key RPCs and the three List... catalog RPCs; tokens from /oauth/v2/token also work on
the native and SailPoint APIs."""

import base64
import json
import os
import tempfile

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from zitadel_client import Zitadel
from zitadel_client.models import (
    ActionServiceActivatePublicKeyRequest,
    ActionServiceAddPublicKeyRequest,
    ActionServiceCondition,
    ActionServiceCreateTargetRequest,
    ActionServiceDeactivatePublicKeyRequest,
    ActionServiceDeleteTargetRequest,
    ActionServiceEventExecution,
    ActionServiceGetTargetRequest,
    ActionServiceInTargetIDsFilter,
    ActionServiceListExecutionsRequest,
    ActionServiceListPublicKeysRequest,
    ActionServiceListTargetsRequest,
    ActionServicePayloadType,
    ActionServiceRemovePublicKeyRequest,
    ActionServiceRESTWebhook,
    ActionServiceSetExecutionRequest,
    ActionServiceTargetSearchFilter,
    ActionServiceUpdateTargetRequest,
)


def key_file(server):
    path = os.path.join(tempfile.mkdtemp(prefix="switchyard-key-"), "key.json")
    server.cli("clients", "create", "--instance", "default", "--scopes", "targets:read targets:write",
               "--key-file", path)
    return path


def sign_in(server, how):
    if how == "access_token":
        return Zitadel.with_access_token(server.base, server.token(scopes="targets:read targets:write"))
    if how == "client_credentials":
        client_id, secret = server.create_client(scopes="targets:read targets:write")
        return Zitadel.with_client_credentials(server.base, client_id, secret)
    return Zitadel.with_private_key(server.base, key_file(server))


@pytest.mark.parametrize("how", ["access_token", "client_credentials", "private_key"])
def test_the_action_service_works_with_every_sign_in(server, how):
    actions = sign_in(server, how).actions
    name = "signin-" + how
    created = actions.create_target(ActionServiceCreateTargetRequest(
        name=name, endpoint="https://example.com/hook", timeout="10s",
        rest_webhook=ActionServiceRESTWebhook(interrupt_on_error=True),
        payload_type=ActionServicePayloadType.PAYLOAD_TYPE_JWE))
    target_id = created.id
    updated = actions.update_target(ActionServiceUpdateTargetRequest(id=target_id, timeout="3s"))
    assert updated.change_date is not None
    got = actions.get_target(ActionServiceGetTargetRequest(id=target_id)).target
    assert got.timeout == "3s" and got.payload_type == ActionServicePayloadType.PAYLOAD_TYPE_JWE
    listed = actions.list_targets(ActionServiceListTargetsRequest(filters=[ActionServiceTargetSearchFilter(
        in_target_ids_filter=ActionServiceInTargetIDsFilter(target_ids=[target_id]))]))
    assert [t.id for t in listed.targets] == [target_id]

    condition = ActionServiceCondition(event=ActionServiceEventExecution(event="user.human.added"))
    assert actions.set_execution(ActionServiceSetExecutionRequest(condition=condition, targets=[target_id])).set_date
    executions = actions.list_executions(ActionServiceListExecutionsRequest()).executions
    assert any(e.targets == [target_id] for e in executions)

    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = actions.add_public_key(ActionServiceAddPublicKeyRequest(
        target_id=target_id, public_key=base64.b64encode(pem).decode())).key_id
    actions.activate_public_key(ActionServiceActivatePublicKeyRequest(target_id=target_id, key_id=key_id))
    keys = actions.list_public_keys(ActionServiceListPublicKeysRequest(target_id=target_id)).public_keys
    assert [(k.key_id, k.active) for k in keys] == [(key_id, True)]
    actions.deactivate_public_key(ActionServiceDeactivatePublicKeyRequest(target_id=target_id, key_id=key_id))
    actions.remove_public_key(ActionServiceRemovePublicKeyRequest(target_id=target_id, key_id=key_id))

    assert "preuserinfo" in actions.list_execution_functions().functions
    assert "/zitadel.user.v2.UserService/AddHumanUser" in actions.list_execution_methods().methods
    assert "zitadel.user.v2.UserService" in actions.list_execution_services().services

    actions.set_execution(ActionServiceSetExecutionRequest(condition=condition, targets=[]))
    assert actions.delete_target(ActionServiceDeleteTargetRequest(id=target_id)).deletion_date


def test_the_key_file_is_zitadel_shaped_and_holds_the_only_private_key(server):
    path = key_file(server)
    with open(path) as f:
        data = json.load(f)
    assert set(data) == {"type", "keyId", "key", "userId"}
    assert data["type"] == "serviceaccount"
    assert data["key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    # The server's database holds no private key.
    for root, _, files in os.walk(server.data_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                assert b"PRIVATE KEY" not in f.read(), name


def test_token_endpoint_v2_rules(server):
    conf = requests.get(server.base + "/.well-known/openid-configuration").json()
    token_url = conf["token_endpoint"]
    client_id, secret = server.create_client(scopes="targets:read events:publish subscriptions:read")
    # Form body and HTTP Basic both work; OpenID/ZITADEL scopes are ignored, ours are honoured.
    by_form = requests.post(token_url, data={"grant_type": "client_credentials", "client_id": client_id,
                                             "client_secret": secret,
                                             "scope": "openid urn:zitadel:iam:org:project:id:zitadel:aud targets:read"})
    assert by_form.status_code == 200, by_form.text
    assert by_form.json()["scope"] == "targets:read"
    by_basic = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert by_basic.status_code == 200, by_basic.text
    assert set(by_basic.json()["scope"].split()) == {"targets:read", "events:publish", "subscriptions:read"}
    token = by_basic.json()["access_token"]
    # The token works on the native, ZITADEL and SailPoint APIs alike.
    auth = {"Authorization": "Bearer " + token}
    assert requests.get(server.base + "/v1/catalog/zitadel-events", headers=auth).status_code == 200
    r = requests.post(server.base + "/v1/events", headers=auth, json={"type": "user.human.added", "payload": {}})
    assert r.status_code == 202, r.text
    assert requests.get(server.base + "/v2/actions/executions/functions", headers=auth).status_code == 200
    assert requests.get(server.base + "/trigger-subscriptions/v1", headers=auth).status_code == 200
    # Wrong secret, unknown grant, a forged assertion.
    bad = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=(client_id, "nope"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    odd = requests.post(token_url, data={"grant_type": "password"})
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"
    forged = requests.post(token_url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                            "assertion": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.e30.AAAA"})
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"
