"""AKS: the `cluster.azure` settings, the network ranges AKS reserves, and the rules AKS would refuse only at
`pulumi up` (pool names, disk sizes, the System pool, a VNet that overlaps the overlay ranges)."""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from components.config.base import MODEL_CONFIG, config_key
from components.config.clouds.common import ManagedCloud

if TYPE_CHECKING:
    from components.config.model import StackConfig

__all__ = ["CLOUD", "MAX_OS_DISK_GB", "POD_CIDR", "SERVICE_CIDR", "SYSTEM_POOL", "AzureSettings", "rules"]

CLOUD = ManagedCloud(
    name="azure",
    # A VM size, `Standard_{family}{vCPUs}{features}_v{version}`, e.g. Standard_D4s_v5.
    machine_type=re.compile(r"^Standard_[A-Za-z0-9_]+$"),
    machine_type_example="Standard_D4s_v5",
    region_example="westeurope",
    # A role definition id: a GUID, the same in every subscription for a built-in role.
    crossplane_role=re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
    crossplane_role_example="a role definition id (GUID)",
)
SYSTEM_POOL = "system"
"""The node pool that becomes the cluster's System pool (CoreDNS, metrics-server, konnectivity)."""
# Azure CNI Overlay gives pods addresses outside the VNet, so the VNet only needs room for nodes. Both ranges are
# AKS's own defaults, kept constant because changing either replaces the cluster (pulumi-azure-native
# provider/pkg/gen/replacement.go); `rules` keeps the VNet clear of them.
POD_CIDR = IPv4Network("10.244.0.0/16")
SERVICE_CIDR = IPv4Network("10.0.0.0/16")
MAX_OS_DISK_GB = 2048
# Linux node pool names on AKS: 1-12 lowercase letters and digits, starting with a letter.
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")


class AzureSettings(BaseModel):
    model_config = MODEL_CONFIG

    resource_group: str | None = None
    """Resource group to create; defaults to `rg-{cluster name}`."""
    vnet_cidr: IPv4Network = IPv4Network("10.30.0.0/16")
    """Address space of the cluster's VNet; nodes get the first /20."""
    admin_group_object_ids: list[
        Annotated[str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    ] = []
    """Entra ID groups (object ids) that are cluster admins through Azure RBAC."""
    encryption_at_host: bool | None = None
    """Encrypt node OS and temporary disks and caches at the VM host (needs the subscription feature
    `Microsoft.Compute/EncryptionAtHost`); defaults to on where the environment is production-like (staging, prod,
    mgmt), off elsewhere. Changing it replaces node pools."""


def rules(config: StackConfig) -> list[str]:
    """One line per AKS rule the config breaks."""
    errors = CLOUD.errors(config)
    pools = config.cluster.node_pools or {}
    errors += [
        f"{config_key(['cluster', 'nodePools', name])}: '{name}' is not an AKS node pool name; use 1-12 lowercase "
        "letters and digits, starting with a letter"
        for name in pools
        if not _POOL_NAME.match(name)
    ]
    errors += [
        f"{config_key(['cluster', 'nodePools', name, 'diskSizeGb'])}: {pool.disk_size_gb} is more than AKS "
        f"allows; use at most {MAX_OS_DISK_GB}"
        for name, pool in pools.items()
        if pool.disk_size_gb > MAX_OS_DISK_GB
    ]
    system = pools.get(SYSTEM_POOL)
    if system is None:
        errors.append(
            f"{config_key(['cluster', 'nodePools'])}: {sorted(pools)} has no pool named '{SYSTEM_POOL}'; AKS needs "
            "one for CoreDNS and the other critical add-ons, add it"
        )
    else:
        if system.spot:
            errors.append(
                f"{config_key(['cluster', 'nodePools', SYSTEM_POOL, 'spot'])}: true is not allowed on AKS; a System "
                "pool cannot use Spot VMs"
            )
        if system.min_size < 1:
            errors.append(
                f"{config_key(['cluster', 'nodePools', SYSTEM_POOL, 'minSize'])}: 0 is not allowed on AKS; the "
                "System pool needs a node"
            )
    vnet = (config.cluster.azure or AzureSettings()).vnet_cidr
    errors += [
        f"{config_key(['cluster', 'azure', 'vnetCidr'])}: '{vnet}' overlaps the {kind} range {reserved} of Azure CNI "
        f"Overlay; choose a range outside {POD_CIDR} and {SERVICE_CIDR}"
        for kind, reserved in (("pod", POD_CIDR), ("service", SERVICE_CIDR))
        if vnet.overlaps(reserved)
    ]
    return errors
