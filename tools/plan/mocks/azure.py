"""Answers of the azure-native provider: outputs the real provider computes, and invoke results.

Ids have the real ARM shapes (`/subscriptions/{sub}/resourceGroups/{rg}/providers/...`), and the managed
cluster answers with the FQDN, OIDC issuer and credentials AKS gives an Entra ID cluster, so a reviewer reads the
plan as they would read `az aks show`. Generated GUIDs are derived from the resource's id, so a plan is the same
on every run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pulumi

SUBSCRIPTION_ID = "5f3c9a1e-2b7d-4c8e-9f01-6a2b3c4d5e6f"
TENANT_ID = "72f988bf-0000-4a1b-9c2d-3e4f5a6b7c8d"
CLIENT_ID = "0c5e7a9b-1d3f-4a6c-8e0b-2d4f6a8c0e1b"
"""Application (client) id of the identity running the program (a CI workload identity or `az login`)."""
OBJECT_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
CA_DATA = base64.b64encode(
    b"-----BEGIN CERTIFICATE-----\n"
    b"MIIE6DCCAtCgAwIBAgIQPlatformMockAksClusterCAwDQYJKoZIhvcNAQELBQAwDTELMAkGA1UEAxMCY2Ew\n"
    b"-----END CERTIFICATE-----\n"
).decode()
"""Base64 PEM of the cluster CA that the user credentials of every mocked cluster carry."""

# (resource group, cluster name) -> API server FQDN of each cluster the mocks created, so the credentials invoke
# answers about a cluster that exists, as AKS does (and fails for one that does not).
_CLUSTER_SERVERS: dict[tuple[str, str], str] = {}


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def _hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:8]


def _group_id(group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}"


def _resource_group(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs["resourceGroupName"]
    return {"id": _group_id(name), "name": name, "provisioningState": "Succeeded"}


def _virtual_network(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs["virtualNetworkName"]
    resource_id = f"{_group_id(args.inputs['resourceGroupName'])}/providers/Microsoft.Network/virtualNetworks/{name}"
    return {"id": resource_id, "name": name, "resourceGuid": _guid(resource_id), "provisioningState": "Succeeded"}


def _public_ip_address(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    name = inputs["publicIpAddressName"]
    resource_id = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Network/publicIPAddresses/{name}"
    digest = hashlib.sha256(resource_id.encode()).digest()
    return {
        "id": resource_id,
        "name": name,
        # A static address is allocated at creation, from Azure's public ranges.
        "ipAddress": f"20.{digest[0]}.{digest[1]}.{max(digest[2], 1)}",
        "provisioningState": "Succeeded",
    }


def _subnet(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    name = inputs["subnetName"]
    vnet_id = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.Network/virtualNetworks/"
    return {
        "id": f"{vnet_id}{inputs['virtualNetworkName']}/subnets/{name}",
        "name": name,
        "provisioningState": "Succeeded",
    }


def _user_assigned_identity(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs["resourceName"]
    group_id = _group_id(args.inputs["resourceGroupName"])
    resource_id = f"{group_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    return {
        "id": resource_id,
        "name": name,
        "principalId": _guid(resource_id, "principal"),
        "clientId": _guid(resource_id, "client"),
        "tenantId": TENANT_ID,
    }


def _role_assignment(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    # azure-native names a role assignment with a fresh GUID when none is given; derived here to stay stable.
    name = inputs.get("roleAssignmentName") or _guid(inputs["scope"], inputs["roleDefinitionId"], inputs["principalId"])
    return {
        "id": f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
    }


def _current_version(requested: str) -> str:
    """AKS picks the latest patch for a `1.MINOR` request and reports it as the current version."""
    return requested if requested.count(".") == 2 else f"{requested}.4"


def _managed_cluster(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    name = inputs["resourceName"]
    group = inputs["resourceGroupName"]
    location = inputs["location"]
    resource_id = f"{_group_id(group)}/providers/Microsoft.ContainerService/managedClusters/{name}"
    node_group = inputs.get("nodeResourceGroup") or f"MC_{group}_{name}_{location}"
    host = f"{inputs['dnsPrefix']}-{_hex(resource_id)}"
    private = bool(inputs.get("apiServerAccessProfile", {}).get("enablePrivateCluster"))
    outputs: dict[str, Any] = {
        "id": resource_id,
        "name": name,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "provisioningState": "Succeeded",
        "powerState": {"code": "Running"},
        "currentKubernetesVersion": _current_version(inputs["kubernetesVersion"]),
        "nodeResourceGroup": node_group,
        "azurePortalFQDN": f"{host}.portal.hcp.{location}.azmk8s.io",
        "oidcIssuerProfile": {
            "enabled": True,
            "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{TENANT_ID}/{_guid(resource_id, 'oidc')}/",
        },
        "identityProfile": {
            "kubeletidentity": {
                "resourceId": f"{_group_id(node_group)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                f"{name}-agentpool",
                "clientId": _guid(resource_id, "kubelet-client"),
                "objectId": _guid(resource_id, "kubelet-object"),
            }
        },
    }
    identity = inputs.get("identity") or {}
    if identity.get("userAssignedIdentities"):
        # Given as a list of ids, answered as a map of id to the identity's principal and client ids.
        outputs["identity"] = {
            "type": identity.get("type", "UserAssigned"),
            "userAssignedIdentities": {
                uid: {"principalId": _guid(uid, "principal"), "clientId": _guid(uid, "client")}
                for uid in identity["userAssignedIdentities"]
            },
        }
    if private:
        server = f"{host}.{_guid(resource_id, 'private')}.privatelink.{location}.azmk8s.io"
        outputs["privateFQDN"] = server
    else:
        server = f"{host}.hcp.{location}.azmk8s.io"
        outputs["fqdn"] = server
    _CLUSTER_SERVERS[(group, name)] = server
    return outputs


def _agent_pool(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    name = inputs["agentPoolName"]
    cluster_id = (
        f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ContainerService/managedClusters/"
        f"{inputs['resourceName']}"
    )
    return {
        "id": f"{cluster_id}/agentPools/{name}",
        "name": name,
        "provisioningState": "Succeeded",
        "currentOrchestratorVersion": _current_version(inputs.get("orchestratorVersion", "1.33")),
        "nodeImageVersion": "AKSAzureLinux-V3gen2-202605.12.0",
    }


def _client_config(_: dict[str, Any]) -> dict[str, Any]:
    return {
        "clientId": CLIENT_ID,
        "objectId": OBJECT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    }


def _user_credentials(args: dict[str, Any]) -> dict[str, Any]:
    """`listClusterUserCredential` of an Entra ID cluster: a kubeconfig with the CA and a kubelogin exec user, no
    client key or token. Its user part is AKS's choice and changes between API versions (pulumi-azure#467)."""
    group, name = args["resourceGroupName"], args["resourceName"]
    server = _CLUSTER_SERVERS.get((group, name))
    if server is None:
        raise ValueError(f"ResourceNotFound: managed cluster {name} in resource group {group} does not exist")
    user = f"clusterUser_{group}_{name}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"certificate-authority-data": CA_DATA, "server": f"https://{server}:443"}}
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": [
                            "get-token",
                            "--environment",
                            "AzurePublicCloud",
                            "--server-id",
                            "6dae42f8-4368-4678-94ff-3960e28e3630",
                            "--client-id",
                            "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
                            "--tenant-id",
                            TENANT_ID,
                            "--login",
                            "devicecode",
                        ],
                        "interactiveMode": "IfAvailable",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }
    # AKS returns YAML; JSON is YAML too and needs no dumper here.
    value = base64.b64encode(json.dumps(kubeconfig).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}


def _federated_identity_credential(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    inputs = args.inputs
    name = inputs["federatedIdentityCredentialResourceName"]
    identity = f"{_group_id(inputs['resourceGroupName'])}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    return {
        "id": f"{identity}/{inputs['resourceName']}/federatedIdentityCredentials/{name}",
        "name": name,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    }


RESOURCES: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:network:VirtualNetwork": _virtual_network,
    "azure-native:network:Subnet": _subnet,
    "azure-native:network:PublicIPAddress": _public_ip_address,
    "azure-native:managedidentity:UserAssignedIdentity": _user_assigned_identity,
    "azure-native:managedidentity:FederatedIdentityCredential": _federated_identity_credential,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:containerservice:AgentPool": _agent_pool,
}
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "azure-native:authorization:getClientConfig": _client_config,
    "azure-native:containerservice:listManagedClusterUserCredentials": _user_credentials,
}
