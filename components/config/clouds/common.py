"""The rules every cloud that creates its cluster (gcp, aws, azure) shares, parametrised by each cloud's module:
a region from its list, a Kubernetes version, machine types and Crossplane roles of its spelling."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from components.config.base import config_key

if TYPE_CHECKING:
    from components.config.model import StackConfig

__all__ = ["REGIONS_FILE", "ManagedCloud", "open_api_errors", "regions"]

REGIONS_FILE = Path(__file__).resolve().parents[1] / "regions.yaml"
"""The regions (Azure: locations) of every cloud: data, so opening a region is one line there."""


@cache
def regions(cloud: str) -> frozenset[str]:
    """The regions a stack on `cloud` may name (its list in regions.yaml)."""
    return frozenset(yaml.safe_load(REGIONS_FILE.read_text())[cloud])


def open_api_errors(config: StackConfig) -> list[str]:
    """A line per authorized network that is the whole Internet (`0.0.0.0/0`)."""
    return [
        f"{config_key(['cluster', 'authorizedNetworks'])}: '{network}' opens the Kubernetes API to the whole "
        "Internet; list your CI and VPN ranges instead"
        for network in config.cluster.authorized_networks
        if network.prefixlen == 0
    ]


@dataclass(frozen=True)
class ManagedCloud:
    """How one cloud spells what every managed cluster's config names."""

    name: str
    """The `cloud` value: gcp, aws or azure."""
    machine_type: re.Pattern[str]
    machine_type_example: str
    region_example: str
    crossplane_role: re.Pattern[str]
    """How the cloud's IAM names a role Crossplane's providers may hold."""
    crossplane_role_example: str

    @property
    def a_name(self) -> str:
        """The cloud's name with its article, for the error lines: "a gcp", "an aws", "an azure"."""
        return f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.name}"

    def errors(self, config: StackConfig) -> list[str]:
        """Region, Kubernetes version, machine types and Crossplane roles: one line per problem."""
        cluster = config.cluster
        errors: list[str] = []
        if not config.region:
            errors.append(f"{config_key(['region'])}: is required when cloud is '{self.name}'")
        elif config.region not in regions(self.name):
            errors.append(self._region_error(config.region))
        if not cluster.kubernetes_version:
            errors.append(f"{config_key(['cluster', 'kubernetesVersion'])}: is required when cloud is '{self.name}'")
        errors += [
            f"{config_key(['cluster', 'nodePools', pool_name, 'machineType'])}: '{pool.machine_type}' is not "
            f"{self.a_name} machine type; expected the form {self.machine_type_example}"
            for pool_name, pool in (cluster.node_pools or {}).items()
            if not self.machine_type.match(pool.machine_type)
        ]
        # Off the hub, config/load.py refuses any role: Crossplane runs on mgmt only.
        if config.role == "hub":
            errors += [
                f"{config_key(['crossplane', 'roles', index])}: '{role}' is not {self.a_name} role; expected e.g. "
                f"{self.crossplane_role_example}"
                for index, role in enumerate(config.crossplane.roles)
                if not self.crossplane_role.match(role)
            ]
        return errors

    def _region_error(self, region: str) -> str:
        hint = difflib.get_close_matches(region, sorted(regions(self.name)), n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return (
            f"{config_key(['region'])}: '{region}' is not {self.a_name} region{suggestion}; allowed: the "
            f"{self.name} list in {'/'.join(REGIONS_FILE.parts[-3:])}, e.g. {self.region_example}"
        )
