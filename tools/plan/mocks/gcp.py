"""Answers of the gcp provider: outputs the real provider computes, and invoke results.

Ids and links have the shapes the provider stores (`projects/{p}/global/networks/{n}`, ...), derived from the
inputs, so a test can follow one resource to another; anything random in real life (IPs, numbers, suffixes)
is a stable hash of the resource's name, so plans are reproducible.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import pulumi

COMPUTE = "https://www.googleapis.com/compute/v1"
CONTAINER = "https://container.googleapis.com/v1"
DEFAULT_PROJECT = "mock-project"
DEFAULT_REGION = "europe-west1"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def _suffix(text: str) -> str:
    """The 7 characters Pulumi's auto-naming appends to a logical name."""
    return _digest(text).hex()[:7]


def _project(args: pulumi.runtime.MockResourceArgs) -> str:
    return args.inputs.get("project") or DEFAULT_PROJECT


def _name(args: pulumi.runtime.MockResourceArgs) -> str:
    return args.inputs.get("name") or f"{args.name}-{_suffix(args.name)}"


def project_number(project_id: str) -> str:
    """A 12-digit project number, stable per project id."""
    return str(100_000_000_000 + int.from_bytes(_digest(project_id)[:5]) % 900_000_000_000)


def _public_ip(text: str) -> str:
    a, b, c = _digest(text)[:3]
    return f"34.{a}.{b}.{max(c, 1)}"


def _fake_ca(text: str) -> str:
    """Base64 of a PEM block, the form of `masterAuth.clusterCaCertificate`."""
    body = base64.b64encode(_digest(text) * 8).decode()
    pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return base64.b64encode(f"{pem}\n-----END CERTIFICATE-----\n".encode()).decode()


# ---------------------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------------------


def _service(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"id": f"{_project(args)}/{args.inputs['service']}"}


def _network(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    path = f"projects/{_project(args)}/global/networks/{_name(args)}"
    return {
        "id": path,
        "name": _name(args),
        "selfLink": f"{COMPUTE}/{path}",
        "numericId": str(int.from_bytes(_digest(path)[:7])),
    }


def _regional(args: pulumi.runtime.MockResourceArgs, collection: str) -> dict[str, Any]:
    """The id, name and selfLink Compute gives a regional resource of `collection` (subnetworks, routers...)."""
    region = args.inputs.get("region") or DEFAULT_REGION
    path = f"projects/{_project(args)}/regions/{region}/{collection}/{_name(args)}"
    return {"id": path, "name": _name(args), "selfLink": f"{COMPUTE}/{path}"}


def _subnetwork(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    outputs = _regional(args, "subnetworks")
    return {
        **outputs,
        "gatewayAddress": str(next(IPv4Network(args.inputs["ipCidrRange"]).hosts())),
        "fingerprint": _suffix(outputs["id"]),
    }


def _router(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return _regional(args, "routers")


def _router_nat(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    region = args.inputs.get("region") or DEFAULT_REGION
    return {"id": f"{_project(args)}/{region}/{args.inputs['router']}/{_name(args)}", "name": _name(args)}


def _service_account(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    email = f"{args.inputs['accountId']}@{_project(args)}.iam.gserviceaccount.com"
    path = f"projects/{_project(args)}/serviceAccounts/{email}"
    return {
        "id": path,
        "name": path,
        "email": email,
        "member": f"serviceAccount:{email}",
        "uniqueId": str(100_000_000_000_000_000_000 + int.from_bytes(_digest(email)[:8])),
    }


def _project_iam_member(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    return {
        "id": f"{inputs['project']}/{inputs['role']}/{inputs['member']}",
        "etag": base64.b64encode(_digest(args.name)[:8]).decode(),
    }


def _key_ring(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    path = f"projects/{_project(args)}/locations/{args.inputs['location']}/keyRings/{_name(args)}"
    return {"id": path, "name": _name(args)}


def _crypto_key(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {
        "id": f"{args.inputs['keyRing']}/cryptoKeys/{_name(args)}",
        "name": _name(args),
        "primaries": [{"name": f"{args.inputs['keyRing']}/cryptoKeys/{_name(args)}/cryptoKeyVersions/1"}],
    }


def _crypto_key_iam_member(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    return {
        "id": f"{inputs['cryptoKeyId']}/{inputs['role']}/{inputs['member']}",
        "etag": base64.b64encode(_digest(args.name)[:8]).decode(),
    }


def _cluster(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    location = inputs.get("location") or DEFAULT_REGION
    path = f"projects/{_project(args)}/locations/{location}/clusters/{_name(args)}"
    private = inputs.get("privateClusterConfig") or {}
    public_ip = _public_ip(path)
    private_ip = str(list(IPv4Network(private["masterIpv4CidrBlock"]).hosts())[1]) if private else ""
    outputs: dict[str, Any] = {
        "id": path,
        "name": _name(args),
        "selfLink": f"{CONTAINER}/{path}",
        # With a private endpoint only, the API answers on the control plane's internal address.
        "endpoint": private_ip if private.get("enablePrivateEndpoint") else public_ip,
        "masterVersion": f"{inputs.get('minMasterVersion') or '1.33'}.5-gke.1000000",
        "masterAuth": {
            **(inputs.get("masterAuth") or {}),
            "clusterCaCertificate": _fake_ca(path),
            "clientCertificate": "",
            "clientKey": "",
        },
        "servicesIpv4Cidr": "",
        "operation": "",
    }
    endpoints = inputs.get("controlPlaneEndpointsConfig") or {}
    if "dnsEndpointConfig" in endpoints:
        dns = {**endpoints["dnsEndpointConfig"], "endpoint": dns_endpoint(_project(args), location, _name(args))}
        outputs["controlPlaneEndpointsConfig"] = {**endpoints, "dnsEndpointConfig": dns}
    if private:
        outputs["privateClusterConfig"] = {
            **private,
            "privateEndpoint": private_ip,
            "publicEndpoint": public_ip,
            "peeringName": f"gke-n{_suffix(path)}-peer",
        }
    return outputs


def address_ip(project: str, region: str, name: str) -> str:
    """The address Google reserves for `name`, stable per path."""
    return _public_ip(f"projects/{project}/regions/{region}/addresses/{name}")


def dns_endpoint(project: str, location: str, name: str) -> str:
    """The DNS endpoint GKE assigns a cluster, stable per path."""
    return f"gke-{_digest(f'projects/{project}/locations/{location}/clusters/{name}').hex()[:32]}.{location}.gke.goog"


def _address(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    region = args.inputs.get("region") or DEFAULT_REGION
    return {**_regional(args, "addresses"), "address": address_ip(_project(args), region, _name(args))}


def _node_pool(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    location = inputs.get("location") or DEFAULT_REGION
    group = f"{COMPUTE}/projects/{_project(args)}/zones/{location}-b/instanceGroupManagers/gke-{_suffix(args.name)}-grp"
    return {
        "id": f"projects/{_project(args)}/locations/{location}/clusters/{inputs['cluster']}/nodePools/{_name(args)}",
        "name": _name(args),
        "instanceGroupUrls": [group],
        "managedInstanceGroupUrls": [group],
        "version": "1.33.5-gke.1000000",
    }


def _service_account_iam_member(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    return {
        "id": f"{inputs['serviceAccountId']}/{inputs['role']}/{inputs['member']}",
        "etag": base64.b64encode(_digest(args.name)[:8]).decode(),
    }


def _workload_identity_pool(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    # The pool's resource name carries the project number, not its id (what `principal://` members use).
    path = (
        f"projects/{project_number(_project(args))}/locations/global/workloadIdentityPools/"
        f"{args.inputs['workloadIdentityPoolId']}"
    )
    return {"id": path, "name": path, "state": "ACTIVE", "mode": "FEDERATION_ONLY"}


def _workload_identity_pool_provider(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    pool = f"projects/{project_number(_project(args))}/locations/global/workloadIdentityPools/"
    path = f"{pool}{inputs['workloadIdentityPoolId']}/providers/{inputs['workloadIdentityPoolProviderId']}"
    return {"id": path, "name": path, "state": "ACTIVE"}


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "gcp:projects/service:Service": _service,
    "gcp:compute/network:Network": _network,
    "gcp:compute/subnetwork:Subnetwork": _subnetwork,
    "gcp:compute/router:Router": _router,
    "gcp:compute/routerNat:RouterNat": _router_nat,
    "gcp:compute/address:Address": _address,
    "gcp:serviceaccount/account:Account": _service_account,
    "gcp:projects/iAMMember:IAMMember": _project_iam_member,
    "gcp:kms/keyRing:KeyRing": _key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _crypto_key,
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _crypto_key_iam_member,
    "gcp:container/cluster:Cluster": _cluster,
    "gcp:container/nodePool:NodePool": _node_pool,
    "gcp:serviceaccount/iAMMember:IAMMember": _service_account_iam_member,
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": _workload_identity_pool,
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": _workload_identity_pool_provider,
}


# ---------------------------------------------------------------------------------------------------------
# Invokes
# ---------------------------------------------------------------------------------------------------------


def _get_project(args: dict[str, Any]) -> dict[str, Any]:
    project_id = args.get("projectId") or DEFAULT_PROJECT
    return {
        "id": f"projects/{project_id}",
        "projectId": project_id,
        "name": project_id,
        "number": project_number(project_id),
        "orgId": "123456789012",
        "folderId": "",
        "billingAccount": "012345-6789AB-CDEF01",
        "labels": {},
        "effectiveLabels": {},
        "pulumiLabels": {},
        "autoCreateNetwork": True,
        "deletionPolicy": "PREVENT",
        "tags": {},
    }


CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "gcp:organizations/getProject:getProject": _get_project,
}
