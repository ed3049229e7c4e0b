"""Answers of the aws provider: outputs the real provider computes, and invoke results.

Ids and ARNs have the real shapes (`vpc-0…`, `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`) and are derived from
the resource name, so a plan is the same on every run and diffs between plans show only real changes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pulumi

from tools.plan.mocks.errors import InvokeFailure

ACCOUNT = "123456789012"
DEFAULT_REGION = "eu-west-1"
# The identity a plan runs as: a CI role's session, so the program's session-to-role mapping is exercised.
CALLER_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-deployer/pulumi"
_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$"
)

MockArgs = pulumi.runtime.MockResourceArgs


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _public_ip(seed: str) -> str:
    """An address of TEST-NET-2 (RFC 5737), which is never routed."""
    return f"198.51.100.{int(_hex(seed, 2), 16) % 254 + 1}"


def _region(args: MockArgs) -> str:
    return args.inputs.get("region") or DEFAULT_REGION


def _ec2(prefix: str, kind: str) -> Callable[[MockArgs], dict[str, Any]]:
    """An EC2 resource: `prefix-<17 hex>` id and its ARN."""

    def answer(args: MockArgs) -> dict[str, Any]:
        resource_id = f"{prefix}-{_hex(args.name)}"
        return {
            "id": resource_id,
            "arn": f"arn:aws:ec2:{_region(args)}:{ACCOUNT}:{kind}/{resource_id}",
            "ownerId": ACCOUNT,
        }

    return answer


def _vpc(args: MockArgs) -> dict[str, Any]:
    return {
        **_ec2("vpc", "vpc")(args),
        "defaultSecurityGroupId": f"sg-{_hex(args.name + 'sg')}",
        "defaultRouteTableId": f"rtb-{_hex(args.name + 'rtb')}",
        "mainRouteTableId": f"rtb-{_hex(args.name + 'rtb')}",
        "defaultNetworkAclId": f"acl-{_hex(args.name + 'acl')}",
    }


def _eip(args: MockArgs) -> dict[str, Any]:
    allocation = f"eipalloc-{_hex(args.name)}"
    return {"id": allocation, "allocationId": allocation, "publicIp": _public_ip(args.name)}


def _nat_gateway(args: MockArgs) -> dict[str, Any]:
    return {
        "id": f"nat-{_hex(args.name)}",
        "networkInterfaceId": f"eni-{_hex(args.name)}",
        "publicIp": _public_ip(args.name),
    }


def _launch_template(args: MockArgs) -> dict[str, Any]:
    template_id = f"lt-{_hex(args.name)}"
    return {
        "id": template_id,
        "arn": f"arn:aws:ec2:{_region(args)}:{ACCOUNT}:launch-template/{template_id}",
        "name": args.inputs.get("name") or f"{args.name}-{_hex(args.name, 7)}",
        "latestVersion": 1,
        "defaultVersion": 1,
    }


def _role(args: MockArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or f"{args.name}-{_hex(args.name, 7)}"
    path = args.inputs.get("path") or "/"
    return {
        "id": name,
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "uniqueId": f"AROA{_hex(args.name, 17).upper()}",
    }


def _role_policy(args: MockArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or f"{args.name}-{_hex(args.name, 7)}"
    return {"id": f"{args.inputs.get('role')}:{name}", "name": name}


def _oidc_provider(args: MockArgs) -> dict[str, Any]:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{str(args.inputs.get('url', '')).removeprefix('https://')}"
    return {"id": arn, "arn": arn}


def _kms_key(args: MockArgs) -> dict[str, Any]:
    digest = _hex(args.name, 32)
    key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{_region(args)}:{ACCOUNT}:key/{key_id}"}


def _log_group(args: MockArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or args.name
    return {"id": name, "arn": f"arn:aws:logs:{_region(args)}:{ACCOUNT}:log-group:{name}"}


def _eks_cluster(args: MockArgs) -> dict[str, Any]:
    name = args.inputs.get("name") or args.name
    region = _region(args)
    endpoint_id = _hex(f"{name}-endpoint", 32).upper()
    issuer_id = _hex(f"{name}-issuer", 32).upper()
    ca_pem = f"-----BEGIN CERTIFICATE-----\nMOCK CA OF {name}\n-----END CERTIFICATE-----\n"
    return {
        "id": name,
        "arn": f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{name}",
        "endpoint": f"https://{endpoint_id}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": base64.b64encode(ca_pem.encode()).decode()},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"}]}],
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": {
            **(args.inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{_hex(name + 'cluster-sg')}",
        },
    }


def _node_group(args: MockArgs) -> dict[str, Any]:
    cluster = args.inputs.get("clusterName")
    name = args.inputs.get("nodeGroupName") or f"{args.name}-{_hex(args.name, 7)}"
    return {
        "id": f"{cluster}:{name}",
        "nodeGroupName": name,
        "arn": f"arn:aws:eks:{_region(args)}:{ACCOUNT}:nodegroup/{cluster}/{name}/{_hex(args.name, 8)}",
        "status": "ACTIVE",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{_hex(args.name, 8)}"}]}],
    }


def _addon(args: MockArgs) -> dict[str, Any]:
    cluster, addon = args.inputs.get("clusterName"), args.inputs.get("addonName")
    return {
        "id": f"{cluster}:{addon}",
        "arn": f"arn:aws:eks:{_region(args)}:{ACCOUNT}:addon/{cluster}/{addon}/{_hex(args.name, 8)}",
    }


def _access_entry(args: MockArgs) -> dict[str, Any]:
    cluster, principal = args.inputs.get("clusterName"), args.inputs.get("principalArn")
    return {
        "id": f"{cluster}:{principal}",
        "accessEntryArn": f"arn:aws:eks:{_region(args)}:{ACCOUNT}:access-entry/{cluster}/{_hex(args.name, 8)}",
        "type": args.inputs.get("type") or "STANDARD",
    }


def _access_policy_association(args: MockArgs) -> dict[str, Any]:
    inputs = args.inputs
    return {
        "id": f"{inputs.get('clusterName')}#{inputs.get('principalArn')}#{inputs.get('policyArn')}",
        "associatedAt": "2026-01-01T00:00:00Z",
    }


RESOURCES: dict[str, Callable[[MockArgs], dict[str, Any]]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _ec2("subnet", "subnet"),
    "aws:ec2/internetGateway:InternetGateway": _ec2("igw", "internet-gateway"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/routeTable:RouteTable": _ec2("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda args: {"id": f"rtbassoc-{_hex(args.name)}"},
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda args: {
        "id": f"{args.inputs.get('role')}-{_hex(args.name, 8)}"
    },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:kms/key:Key": _kms_key,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/addon:Addon": _addon,
    "aws:eks/accessEntry:AccessEntry": _access_entry,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy_association,
}


def _availability_zones(args: dict[str, Any]) -> dict[str, Any]:
    """Three zones, as eu-west-1 has; zone ids follow AWS's `euw1-az1` form."""
    region = args.get("region") or DEFAULT_REGION
    area, direction, number = region.split("-", 2)
    prefix = f"{area}{direction[:1]}{number}"
    return {
        "id": region,
        "names": [f"{region}{letter}" for letter in "abc"],
        "zoneIds": [f"{prefix}-az{index}" for index in (1, 2, 3)],
        "groupNames": [region],
        "state": args.get("state"),
        "filters": args.get("filters"),
        "region": region,
    }


def _caller_identity(_: dict[str, Any]) -> dict[str, Any]:
    return {"id": ACCOUNT, "accountId": ACCOUNT, "arn": CALLER_ARN, "userId": "AROAEXAMPLEDEPLOYER01:pulumi"}


def _session_context(args: dict[str, Any]) -> dict[str, Any]:
    """The provider maps an assumed-role session to its role (it also looks up the role's path: none here)."""
    arn = args.get("arn") or ""
    match = _ASSUMED_ROLE.match(arn)
    if match is None:
        return {"id": arn, "arn": arn, "issuerArn": arn, "issuerId": "", "issuerName": "", "sessionName": ""}
    role = match["role"]
    return {
        "id": arn,
        "arn": arn,
        "issuerArn": f"arn:{match['partition']}:iam::{match['account']}:role/{role}",
        "issuerId": "AROAEXAMPLEDEPLOYER01",
        "issuerName": role,
        "sessionName": match["session"],
    }


OIDC_PROVIDERS: dict[str, dict[str, str]] = {}
"""IAM OIDC providers that exist in the mocked account before the program runs: URL -> tags. None by default, as
for a first spoke in a new account; tests add one to play a second spoke of the same account."""


def _oidc_provider_lookup(args: dict[str, Any]) -> dict[str, Any]:
    url = str(args.get("url") or "")
    if url not in OIDC_PROVIDERS:
        # The data source fails when no provider has the URL.
        raise InvokeFailure("url", f"finding IAM OIDC Provider ({url}): couldn't find resource")
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{url.removeprefix('https://')}"
    return {
        "id": arn,
        "arn": arn,
        "url": url.removeprefix("https://"),
        "clientIdLists": ["sts.amazonaws.com"],
        "thumbprintLists": [],
        "tags": dict(OIDC_PROVIDERS[url]),
    }


CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:iam/getOpenIdConnectProvider:getOpenIdConnectProvider": _oidc_provider_lookup,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:iam/getSessionContext:getSessionContext": _session_context,
}
