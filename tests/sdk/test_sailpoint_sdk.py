"""SailPoint Event Triggers compatibility: the official `sailpoint` SDK (2.1.72), unchanged,
drives Switchyard's /triggers/v1 and /trigger-subscriptions/v1 endpoints. It authenticates as
SailPoint's SDK does by itself: client credentials exchanged at {base_url}/oauth/token."""

import json

import pytest
import requests
from sailpoint.configuration import Configuration, ConfigurationParams
from sailpoint.triggers.api.triggers_api import TriggersApi
from sailpoint.triggers.api_client import ApiClient
from sailpoint.triggers.exceptions import ApiException
from sailpoint.triggers.models.event_bridge_config import EventBridgeConfig
from sailpoint.triggers.models.http_config import HttpConfig
from sailpoint.triggers.models.basic_auth_config import BasicAuthConfig
from sailpoint.triggers.models.subscription_patch_request_inner import SubscriptionPatchRequestInner
from sailpoint.triggers.models.subscription_patch_request_inner_value import SubscriptionPatchRequestInnerValue
from sailpoint.triggers.models.subscription_post_request import SubscriptionPostRequest
from sailpoint.triggers.models.subscription_put_request import SubscriptionPutRequest
from sailpoint.triggers.models.validate_filter_input_dto import ValidateFilterInputDto


@pytest.fixture
def api(server):
    client_id, client_secret = server.create_client(
        scopes="triggers:read subscriptions:read subscriptions:write")
    params = ConfigurationParams()
    params.base_url = server.base
    params.client_id = client_id
    params.client_secret = client_secret
    config = Configuration(params)
    with ApiClient(config) as client:
        yield TriggersApi(client)


def test_list_triggers_with_filter_sorter_and_paging(api):
    # Filtered to a trigger whose example the SDK's oneOf can decode (see note below).
    triggers = api.list_triggers_v1(filters='id eq "idn:source-created"')
    assert [t.id for t in triggers] == ["idn:source-created"]
    t = triggers[0]
    assert t.name == "Source Created"
    assert t.type.value == "FIRE_AND_FORGET"
    assert json.loads(t.input_schema)["required"]
    resp = api.list_triggers_v1_with_http_info(
        filters='id ge "idn:source-" and id le "idn:source-z"', sorters="-id", limit=2, count=True)
    assert resp.status_code == 200
    assert [x.id for x in resp.data] == ["idn:source-updated", "idn:source-deleted"]
    headers = {k.lower(): v for k, v in resp.headers.items()}
    assert int(headers["x-total-count"]) == 3


def test_full_catalog_raw_through_the_sdk_transport(api):
    # Several SDK payload models are structurally identical (e.g. pre-approval and dynamic
    # approver), so the SDK's oneOf cannot decode every real trigger example; the raw answer
    # through the SDK's own request path is still complete and well-formed.
    raw = api.list_triggers_v1_without_preload_content()
    assert raw.status == 200
    body = json.loads(raw.data)
    ids = {t["id"] for t in body}
    assert {"idn:identity-created", "idn:access-request-pre-approval", "idn:access-request-dynamic-approver"} <= ids
    assert len(body) >= 12
    with pytest.raises(ApiException) as e:
        api.list_triggers_v1(filters='name eq "x"')
    assert e.value.status == 400
    assert "'name'" in json.loads(e.value.body)["causes"][0]["text"]


def test_subscription_lifecycle(api, server):
    created = api.create_subscription_v1(SubscriptionPostRequest(
        name="Access request subscription",
        description="Access requested to site xyz",
        triggerId="idn:access-request-pre-approval",
        type="HTTP",
        httpConfig=HttpConfig(
            url="https://www.example.com/hook",
            httpDispatchMode="SYNC",
            httpAuthenticationType="BASIC_AUTH",
            basicAuthConfig=BasicAuthConfig(userName="svc", password="sdk-secret"),
        ),
        filter='$[?($.requestedBy.name == "john.doe")]',
    ))
    assert created.id
    assert created.trigger_name == "Access Request Submitted"
    assert created.enabled is True
    assert created.response_deadline == "PT1H"
    assert created.http_config.basic_auth_config.password is None

    patched = api.patch_subscription_v1(created.id, [
        SubscriptionPatchRequestInner(op="replace", path="/name",
                                      value=SubscriptionPatchRequestInnerValue("patched name")),
        SubscriptionPatchRequestInner(op="replace", path="/responseDeadline",
                                      value=SubscriptionPatchRequestInnerValue("PT30M")),
        SubscriptionPatchRequestInner(op="remove", path="/description"),
    ])
    assert patched.name == "patched name"
    assert patched.response_deadline == "PT30M"
    assert patched.description is None

    with pytest.raises(ApiException) as e:
        api.patch_subscription_v1(created.id, [
            SubscriptionPatchRequestInner(op="replace", path="/triggerId",
                                          value=SubscriptionPatchRequestInnerValue("idn:source-created"))])
    assert e.value.status == 400
    body = json.loads(e.value.body)
    assert body["detailCode"].startswith("400") and "/triggerId" in body["causes"][0]["text"]

    put = api.update_subscription_v1(created.id, SubscriptionPutRequest(
        name="put name",
        type="EVENTBRIDGE",
        eventBridgeConfig=EventBridgeConfig(awsAccount="123456789012", awsRegion="us-west-1"),
        enabled=False,
    ))
    assert put.name == "put name"
    assert put.type.value == "EVENTBRIDGE"
    assert put.event_bridge_config.aws_region == "us-west-1"
    assert put.enabled is False
    assert put.trigger_id == "idn:access-request-pre-approval"

    second = api.create_subscription_v1(SubscriptionPostRequest(
        name="second", triggerId="idn:identity-created", type="HTTP",
        httpConfig=HttpConfig(url="https://example.org/x", httpDispatchMode="ASYNC")))
    listed = api.list_subscriptions_v1(filters='triggerId eq "idn:identity-created"')
    assert [s.id for s in listed] == [second.id]
    listed = api.list_subscriptions_v1(filters='type eq "EVENTBRIDGE"')
    assert [s.id for s in listed] == [created.id]
    listed = api.list_subscriptions_v1(sorters="-triggerName", limit=10, offset=0, count=True)
    assert [s.trigger_name for s in listed] == ["Identity Created", "Access Request Submitted"]

    # At most one subscription per REQUEST_RESPONSE trigger.
    with pytest.raises(ApiException) as e:
        api.create_subscription_v1(SubscriptionPostRequest(
            name="dup", triggerId="idn:access-request-pre-approval", type="HTTP",
            httpConfig=HttpConfig(url="https://example.org/x", httpDispatchMode="SYNC")))
    assert e.value.status == 400

    api.delete_subscription_v1(created.id)
    api.delete_subscription_v1(second.id)
    assert api.list_subscriptions_v1() == []
    with pytest.raises(ApiException) as e:
        api.delete_subscription_v1(created.id)
    assert e.value.status == 404


def test_validate_filter(api):
    ok = api.test_subscription_filter_v1(ValidateFilterInputDto(
        input={"identityId": "201327fda1c44704ac01181e963d463c"},
        filter='$[?($.identityId == "201327fda1c44704ac01181e963d463c")]'))
    assert (ok.is_valid, ok.is_valid_json_path, ok.is_path_exist) == (True, True, True)
    miss = api.test_subscription_filter_v1(ValidateFilterInputDto(input={"a": 1}, filter="$.b"))
    assert (miss.is_valid, miss.is_valid_json_path, miss.is_path_exist) == (False, True, False)
    bad = api.test_subscription_filter_v1(ValidateFilterInputDto(input={"a": 1}, filter="$[?("))
    assert (bad.is_valid, bad.is_valid_json_path) == (False, False)
