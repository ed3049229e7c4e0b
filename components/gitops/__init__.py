"""The GitOps bridge: how this program hands clusters and platform services to Argo CD.

`registration` turns a cluster's typed metadata into an Argo CD cluster Secret; `appsets` generates the platform
services' ApplicationSet from the catalog; `domains` generates each domain's services and Crossplane claims from
the domain's own repository; `hub` is the contract between the hub stack and its spokes and guards the hub's
teardown. The Secret's labels and annotations are the whole contract between registration
and the ApplicationSets, so both sides take their key names from components/cluster_secret.py.
"""

from components.gitops.appsets import PlatformServices, PlatformServicesArgs, platform_services_appset
from components.gitops.domains import DomainFlows, DomainFlowsArgs, claims_appset, services_appset
from components.gitops.hub import (
    HubServices,
    HubServicesArgs,
    hub_output,
    hub_provider,
    read_hub,
    with_crossplane_identity,
)
from components.gitops.pod_security import PodSecurityGuard, PodSecurityGuardArgs
from components.gitops.registration import (
    ClusterRegistration,
    ClusterRegistrationArgs,
    Registration,
    SpokeConnection,
    cluster_registration,
)

__all__ = [
    "ClusterRegistration",
    "ClusterRegistrationArgs",
    "DomainFlows",
    "DomainFlowsArgs",
    "HubServices",
    "HubServicesArgs",
    "PlatformServices",
    "PlatformServicesArgs",
    "PodSecurityGuard",
    "PodSecurityGuardArgs",
    "Registration",
    "SpokeConnection",
    "claims_appset",
    "cluster_registration",
    "hub_output",
    "hub_provider",
    "platform_services_appset",
    "read_hub",
    "services_appset",
    "with_crossplane_identity",
]
