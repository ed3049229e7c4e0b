"""The GitOps bridge: how this program hands clusters and platform services to Argo CD.

`registration` turns a cluster's typed metadata into an Argo CD cluster Secret; `appsets` generates the platform
services' ApplicationSet from the catalog. The Secret's labels and annotations are the whole contract between
the two, so both sides take their key names from `registration`.
"""

from components.gitops.appsets import PlatformServices, PlatformServicesArgs, platform_services_appset
from components.gitops.registration import (
    ClusterRegistration,
    ClusterRegistrationArgs,
    Registration,
    cluster_registration,
    enable_label,
    version_annotation,
)

__all__ = [
    "ClusterRegistration",
    "ClusterRegistrationArgs",
    "PlatformServices",
    "PlatformServicesArgs",
    "Registration",
    "cluster_registration",
    "enable_label",
    "platform_services_appset",
    "version_annotation",
]
