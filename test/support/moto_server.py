"""Starts moto's server with fixes for the tests, none of which product code relies on.

1. CodeBuild build timestamps as epoch seconds. moto 5 writes build `startTime`/`endTime` as ISO
   strings where the AWS JSON protocol has epoch numbers, and SDK v3 then fails to read StartBuild
   and BatchGetBuilds answers. The real service sends numbers, so the harness does too.

2. Resource-level IAM checks (they matter only when moto enforces IAM, INITIAL_NO_AUTH_ACTION_COUNT).
   moto checks SSM and CodeBuild calls against the resource `*`, so every resource-scoped Allow is
   denied. AWS checks them against the parameter / project ARNs; so does the harness, for the
   actions below. GetParameters (several names) must be allowed on every name, as in AWS.

3. Access denied in the JSON protocol. moto answers a denied JSON-protocol call (SSM, CodeBuild,
   Logs...) with an XML body, which SDK v3 reports as `SyntaxError: Unexpected token '<'`. AWS
   answers `{"__type":"AccessDeniedException"}`; so does the harness, so a test can tell a denial
   from a broken answer.

5. DynamoDB requests one at a time. moto's server answers requests on threads and its DynamoDB
   checks a condition and then writes without a lock, so two concurrent conditional writes (or
   transactions) can both pass the same condition. DynamoDB serializes writes to an item; the
   harness serializes DynamoDB calls, so a test of concurrent conditional writes sees what AWS does.

4. STS AssumeRole checked against the role asked for. moto checks it against `*`, so a caller
   allowed `sts:AssumeRole` on some roles only (the worker: roles on /iwomp-deploy/) is refused
   every role. AWS checks the role's ARN; so does the harness. (Trust, source identity and session
   tags remain unchecked by moto: iam-eval.ts decides those.)

5. DynamoDB, SNS Publish and CloudWatch Logs reads checked against their resources. moto checks them
   against `*`; AWS checks the table (or `table/<name>/index/<index>` for Query and Scan of an
   index), the topic, the log group or log stream. TransactWriteItems is authorised item by item
   as PutItem, UpdateItem, DeleteItem or ConditionCheckItem on each item's table, as in AWS (there
   is no TransactWriteItems action to grant). Conditions (dynamodb:Attributes, LeadingKeys...)
   remain unchecked by moto: iam-eval.ts decides those.
"""
import datetime
import json
import sys
import threading

import moto.codebuild.models as codebuild_models
from moto.codebuild.responses import CodeBuildResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.core.utils import unix_time
from moto.dynamodb.responses import DynamoHandler
from moto.logs.responses import LogsResponse
from moto.server import main
from moto.sns.responses import SNSResponse
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.sts.responses import TokenResponse
from moto.utilities.utils import get_partition

_EPOCH = datetime.datetime(1970, 1, 1)


def _epoch_seconds(dt=None):
    return unix_time(dt) if dt is not None else unix_time()


def _parse_epoch(value):
    return _EPOCH + datetime.timedelta(seconds=float(value))


codebuild_models.iso_8601_datetime_with_milliseconds = _epoch_seconds
codebuild_models.default_timestamp_parser = _parse_epoch


# --- 2. resource ARNs ---------------------------------------------------------------------------

# SSM actions whose resource is the parameter named by `Name`, `Names` (each) or `Path`.
_SSM_BY_NAME = {
    "GetParameter",
    "GetParameterHistory",
    "PutParameter",
    "DeleteParameter",
    "LabelParameterVersion",
}
_SSM_BY_NAMES = {"GetParameters", "DeleteParameters"}
_SSM_BY_PATH = {"GetParametersByPath"}


def _body(response):
    # Both services speak the AWS JSON protocol: the parameters are the JSON body.
    try:
        return json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}


def _ssm_arn(response, name):
    partition = get_partition(response.region)
    return f"arn:{partition}:ssm:{response.region}:{response.current_account}:parameter/{name.lstrip('/')}"


def _ssm_resources(self):
    action = self._get_action()
    body = _body(self)
    if action in _SSM_BY_NAME and isinstance(body.get("Name"), str):
        return [_ssm_arn(self, body["Name"])]
    if action in _SSM_BY_NAMES and isinstance(body.get("Names"), list) and body["Names"]:
        return [_ssm_arn(self, name) for name in body["Names"]]
    if action in _SSM_BY_PATH and isinstance(body.get("Path"), str):
        return [_ssm_arn(self, body["Path"])]
    return ["*"]


def _codebuild_arn(response, project):
    partition = get_partition(response.region)
    return f"arn:{partition}:codebuild:{response.region}:{response.current_account}:project/{project}"


def _codebuild_resources(self):
    action = self._get_action()
    body = _body(self)
    projects = []
    if action in ("StartBuild", "ListBuildsForProject") and isinstance(body.get("projectName"), str):
        projects = [body["projectName"]]
    elif action in ("BatchGetBuilds",) and isinstance(body.get("ids"), list):
        # A build id is `<project>:<uuid>`; the resource is the project.
        projects = [i.split(":", 1)[0] for i in body["ids"] if isinstance(i, str)]
    elif action in ("StopBuild",) and isinstance(body.get("id"), str):
        projects = [body["id"].split(":", 1)[0]]
    elif action in ("BatchGetProjects",) and isinstance(body.get("names"), list):
        projects = [n for n in body["names"] if isinstance(n, str)]
    elif action in ("DeleteProject", "CreateProject", "UpdateProject") and isinstance(body.get("name"), str):
        projects = [body["name"]]
    return [_codebuild_arn(self, p) for p in dict.fromkeys(projects)] or ["*"]


class _Resources(str):
    """Several resources, each of which must be allowed. A str so moto's own code accepts it.
    An entry may be an (action, resource) pair: that resource is checked for that action."""

    def __new__(cls, arns):
        first = arns[0][1] if isinstance(arns[0], tuple) else arns[0]
        instance = super().__new__(cls, first)
        instance.arns = arns
        return instance


def _determine(resources_of):
    def determine_resource(self):
        arns = resources_of(self)
        return arns[0] if len(arns) == 1 and isinstance(arns[0], str) else _Resources(arns)

    return determine_resource


SimpleSystemManagerResponse._determine_resource = _determine(_ssm_resources)


def _sts_resources(self):
    # 4. Query protocol: the role is a form parameter of AssumeRole (and its web identity kin).
    if self._get_action() in ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
        role = self.querystring.get("RoleArn", [None])[0]
        if isinstance(role, str) and role:
            return [role]
    return ["*"]


TokenResponse._determine_resource = _determine(_sts_resources)


# 5. DynamoDB (JSON protocol: the parsed parameters), SNS (query protocol) and Logs (JSON).
_DYNAMODB_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _dynamodb_arn(response, table, index=None):
    partition = get_partition(response.region)
    arn = table if table.startswith("arn:") else (
        f"arn:{partition}:dynamodb:{response.region}:{response.current_account}:table/{table}"
    )
    return f"{arn}/index/{index}" if index else arn


def _dynamodb_resources(self):
    action = self._get_action()
    body = self.body if isinstance(self.body, dict) else _body(self)
    if action in ("TransactWriteItems", "TransactGetItems"):
        # (action, resource) pairs: each item is authorised as its own operation.
        checks = []
        for item in body.get("TransactItems") or []:
            for kind, operation in (item or {}).items():
                item_action = _DYNAMODB_TRANSACT_ACTIONS.get(kind)
                if item_action and isinstance((operation or {}).get("TableName"), str):
                    checks.append((item_action, _dynamodb_arn(self, operation["TableName"])))
        return checks or ["*"]
    table = body.get("TableName")
    if isinstance(table, str):
        index = body.get("IndexName") if action in ("Query", "Scan") else None
        return [_dynamodb_arn(self, table, index if isinstance(index, str) else None)]
    return ["*"]


def _sns_resources(self):
    if self._get_action() in ("Publish", "PublishBatch"):
        topic = self.querystring.get("TopicArn", [None])[0]
        if isinstance(topic, str) and topic:
            return [topic]
    return ["*"]


def _logs_resources(self):
    action = self._get_action()
    body = _body(self)
    group = body.get("logGroupName")
    if not isinstance(group, str):
        return ["*"]
    partition = get_partition(self.region)
    group_arn = f"arn:{partition}:logs:{self.region}:{self.current_account}:log-group:{group}"
    if action == "GetLogEvents" and isinstance(body.get("logStreamName"), str):
        return [f"{group_arn}:log-stream:{body['logStreamName']}"]
    if action == "FilterLogEvents":
        return [group_arn]
    return ["*"]


DynamoHandler._determine_resource = _determine(_dynamodb_resources)
SNSResponse._determine_resource = _determine(_sns_resources)
LogsResponse._determine_resource = _determine(_logs_resources)
CodeBuildResponse._determine_resource = _determine(_codebuild_resources)

_original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action


def _authorize(self, resource="*"):
    from moto import settings

    enforcing = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    # Before enforcement starts, one call counts one request, however many resources it names.
    arns = getattr(resource, "arns", [resource]) if enforcing else [str(resource)]
    arn = resource
    try:
        for entry in arns:
            action, arn = entry if isinstance(entry, tuple) else (None, entry)
            if action is None:
                _original_authorize(self, str(arn))
                continue
            # The IAM request names the action from _get_action(): shadow it for this item.
            self._get_action = lambda action=action: action
            try:
                _original_authorize(self, str(arn))
            finally:
                del self._get_action
    except AccessDeniedError as denied:
        # 3. The JSON protocol's shape of the same denial, naming the resource as AWS does.
        if self.headers.get("X-Amz-Target"):
            error = JsonRESTError("AccessDeniedException", f"{denied.message} on resource: {arn}")
            error.code = 403
            raise error from denied
        raise


ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authorize

# --- 5. DynamoDB one request at a time ------------------------------------------------------------

_dynamodb_lock = threading.Lock()
_original_dynamodb_call = DynamoHandler.call_action


def _serialized_dynamodb_call(self):
    with _dynamodb_lock:
        return _original_dynamodb_call(self)


DynamoHandler.call_action = _serialized_dynamodb_call


if __name__ == "__main__":
    main(sys.argv[1:])
