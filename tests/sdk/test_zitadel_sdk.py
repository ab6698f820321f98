"""The official ZITADEL Python SDK (zitadel-client 4.1.9) drives Switchyard's Connect surface
unchanged: targets (create, update with key rotation, get, list with a name filter, delete) and
executions (set, list), plus a Connect error mapped to the SDK's exception."""

import pytest
import zitadel_client
from zitadel_client import Zitadel
from zitadel_client.models import (
    ActionServiceCondition,
    ActionServiceCreateTargetRequest,
    ActionServiceDeleteTargetRequest,
    ActionServiceEventExecution,
    ActionServiceGetTargetRequest,
    ActionServiceListExecutionsRequest,
    ActionServiceListTargetsRequest,
    ActionServicePaginationRequest,
    ActionServicePayloadType,
    ActionServiceRequestExecution,
    ActionServiceRESTCall,
    ActionServiceRESTWebhook,
    ActionServiceSetExecutionRequest,
    ActionServiceTargetNameFilter,
    ActionServiceTargetSearchFilter,
    ActionServiceTextFilterMethod,
    ActionServiceUpdateTargetRequest,
)


@pytest.fixture(scope="module")
def actions(server):
    return Zitadel.with_access_token(server.base, server.token(scopes="targets:read targets:write")).actions


def create(actions, name):
    return actions.create_target(ActionServiceCreateTargetRequest(
        name=name, endpoint="https://example.com/hook", timeout="10s",
        rest_webhook=ActionServiceRESTWebhook(interrupt_on_error=True),
        payload_type=ActionServicePayloadType.PAYLOAD_TYPE_JSON))


def test_target_lifecycle(actions):
    created = create(actions, "sdk-hook")
    assert created.id and len(created.signing_key) == 32
    assert created.creation_date is not None

    updated = actions.update_target(ActionServiceUpdateTargetRequest(
        id=created.id, name="sdk-hook-renamed", timeout="2.5s",
        rest_call=ActionServiceRESTCall(interrupt_on_error=False), expiration_signing_key="0s"))
    assert updated.change_date is not None
    assert updated.signing_key and updated.signing_key != created.signing_key

    target = actions.get_target(ActionServiceGetTargetRequest(id=created.id)).target
    assert target.name == "sdk-hook-renamed"
    assert target.timeout == "2.500s"
    assert target.rest_call.interrupt_on_error is False
    assert target.rest_webhook is None
    assert target.signing_key == updated.signing_key
    assert target.payload_type == ActionServicePayloadType.PAYLOAD_TYPE_JSON

    create(actions, "other-target")
    listed = actions.list_targets(ActionServiceListTargetsRequest(
        pagination=ActionServicePaginationRequest(limit=10, asc=True),
        filters=[ActionServiceTargetSearchFilter(target_name_filter=ActionServiceTargetNameFilter(
            target_name="SDK-HOOK", method=ActionServiceTextFilterMethod.TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE))]))
    assert [t.id for t in listed.targets] == [created.id]
    assert int(listed.pagination.total_result) == 1

    deleted = actions.delete_target(ActionServiceDeleteTargetRequest(id=created.id))
    assert deleted.deletion_date is not None
    with pytest.raises(zitadel_client.ApiError) as err:
        actions.get_target(ActionServiceGetTargetRequest(id=created.id))
    assert err.value.code == 404


def test_executions(actions):
    target = create(actions, "exec-target")
    cond = ActionServiceCondition(request=ActionServiceRequestExecution(
        method="/zitadel.user.v2.UserService/AddHumanUser"))
    res = actions.set_execution(ActionServiceSetExecutionRequest(condition=cond, targets=[target.id]))
    assert res.set_date is not None
    actions.set_execution(ActionServiceSetExecutionRequest(
        condition=ActionServiceCondition(event=ActionServiceEventExecution(group="user.human")),
        targets=[target.id]))

    listed = actions.list_executions(ActionServiceListExecutionsRequest())
    assert int(listed.pagination.total_result) == 2
    by_method = [e for e in listed.executions if e.condition.request is not None]
    assert by_method[0].condition.request.method == "/zitadel.user.v2.UserService/AddHumanUser"
    assert by_method[0].targets == [target.id]

    assert "preuserinfo" in actions.list_execution_functions({}).functions
    assert "zitadel.user.v2.UserService" in actions.list_execution_services({}).services
    assert "/zitadel.user.v2.UserService/AddHumanUser" in actions.list_execution_methods({}).methods

    # Removing the target drops it from its executions.
    actions.delete_target(ActionServiceDeleteTargetRequest(id=target.id))
    listed = actions.list_executions(ActionServiceListExecutionsRequest())
    assert all(e.targets in (None, []) for e in listed.executions)
