"""GKE: the `cluster.gcp` settings and the rules GKE would otherwise enforce only at `pulumi up`."""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from components.config.base import MODEL_CONFIG, config_key
from components.config.clouds.common import ManagedCloud

if TYPE_CHECKING:
    from components.config.model import StackConfig

__all__ = ["CLOUD", "GKE_NAME_MAX", "GcpSettings", "rules"]

CLOUD = ManagedCloud(
    name="gcp",
    # `{series}-{type}-{vCPUs}`, e.g. e2-standard-4, n2d-highmem-8, or custom-4-16384.
    machine_type=re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$"),
    machine_type_example="e2-standard-4",
    region_example="europe-west1",
    # A predefined role, or a custom role of a project or an organization.
    crossplane_role=re.compile(r"^(roles|projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/roles|organizations/\d+/roles)/[\w.]+$"),
    crossplane_role_example="roles/cloudsql.admin",
)
GKE_NAME_MAX = 40
"""The longest cluster name GKE takes; it refuses a longer one only at `pulumi up`, after the network exists."""


class GcpSettings(BaseModel):
    model_config = MODEL_CONFIG

    project: str = Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    """GCP project id the cluster is created in."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "REGULAR"
    """GKE release channel; `kubernetesVersion` is the minimum control-plane version within it."""
    subnet_cidr: IPv4Network = IPv4Network("10.10.0.0/20")
    """Primary range of the node subnet."""
    pods_cidr: IPv4Network = IPv4Network("10.20.0.0/14")
    """Secondary range for Pod IPs (VPC-native)."""
    services_cidr: IPv4Network = IPv4Network("10.24.0.0/20")
    """Secondary range for Service IPs (VPC-native)."""
    master_cidr: IPv4Network = IPv4Network("172.16.0.0/28")
    """The /28 the private control plane peers from."""
    binary_authorization: bool = False
    """Enforce the project's Binary Authorization policy on every Pod (`PROJECT_SINGLETON_POLICY_ENFORCE`); the
    policy itself (which attestors, which images are exempt) is the project's, set outside this program."""


def rules(config: StackConfig) -> list[str]:
    """One line per GKE rule the config breaks."""
    errors = CLOUD.errors(config)
    if config.cluster.gcp is None:
        errors.append(f"{config_key(['cluster', 'gcp', 'project'])}: is required when cloud is 'gcp'")
    name = config.cluster_name
    if len(name) > GKE_NAME_MAX:
        errors.append(
            f"{config_key(['cluster', 'name'])}: '{name}' has {len(name)} characters; a GKE cluster name has at "
            f"most {GKE_NAME_MAX}"
        )
    return errors
