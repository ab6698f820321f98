"""Authentication as the official SDKs do it: the SailPoint SDK exchanges client credentials at
`{base_url}/oauth/token` (form body) and sends the token as `Authorization: Bearer`; ZITADEL's
client sends a personal access token the same way."""

import requests
from sailpoint.configuration import Configuration, ConfigurationParams


def whoami(server, token):
    return requests.get(server.base + "/v1/whoami", headers={"Authorization": "Bearer " + token}, timeout=10)


def test_sailpoint_sdk_obtains_a_token_with_client_credentials(server):
    client_id, client_secret = server.create_client(scopes="admin", instance="acme")
    params = ConfigurationParams()
    params.base_url = server.base
    params.client_id = client_id
    params.client_secret = client_secret
    config = Configuration(params)
    assert config.access_token, "the SDK got no token"
    r = whoami(server, config.access_token)
    assert r.status_code == 200, r.text
    assert r.json()["subject"] == client_id
    assert r.json()["instance"] == "acme"


def test_wrong_secret_is_refused_in_oauth_shape(server):
    client_id, _ = server.create_client(scopes="triggers:read")
    r = requests.post(server.base + "/oauth/token", timeout=10,
                      data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "nope"})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_requests_without_a_token_get_the_sailpoint_401(server):
    r = requests.get(server.base + "/triggers/v1", timeout=10)
    assert r.status_code == 401
    assert r.json() == {"error": "JWT validation failed: missing bearer token"}


def test_cli_token_is_accepted(server):
    r = whoami(server, server.token("admin"))
    assert r.status_code == 200
    assert r.json()["instance"] == "default"
