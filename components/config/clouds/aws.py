"""EKS: the `cluster.aws` settings and the rules EKS (or this program's VPC layout) would refuse only at `pulumi
up`. How many availability zones a region has is a cloud call, checked by components/clusters/eks.py."""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field

from components.config.base import MODEL_CONFIG, config_key
from components.config.clouds.common import ManagedCloud, open_api_errors

if TYPE_CHECKING:
    from components.config.model import StackConfig

__all__ = ["CLOUD", "VPC_PREFIX_MAX", "VPC_PREFIX_MIN", "AwsSettings", "rules"]

CLOUD = ManagedCloud(
    name="aws",
    # `{family}{generation}{options}.{size}`, e.g. m6i.xlarge, c7gn.2xlarge.
    machine_type=re.compile(r"^[a-z][a-z0-9-]*\.[0-9a-z]+$"),
    machine_type_example="m6i.xlarge",
    region_example="eu-west-1",
    # An IAM policy ARN, AWS managed (`iam::aws:`) or the account's own.
    crossplane_role=re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$"),
    crossplane_role_example="arn:aws:iam::aws:policy/AmazonS3FullAccess",
)
# A VPC is at most a /16; a /22 still leaves the public subnets (an eighth of an eighth, clusters/eks.py
# `split_vpc`) the /28 AWS allows at least.
VPC_PREFIX_MIN = 16
VPC_PREFIX_MAX = 22


class AwsSettings(BaseModel):
    model_config = MODEL_CONFIG

    vpc_cidr: IPv4Network = IPv4Network("10.0.0.0/16")
    """CIDR of the cluster's VPC; split into one public and one private subnet per availability zone."""
    availability_zones: int = Field(default=2, ge=2, le=6)
    """How many availability zones (from the region's list) the VPC and node groups span."""
    admin_role_arns: list[Annotated[str, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")]] = []
    """IAM roles given cluster-admin through EKS access entries (no aws-auth ConfigMap)."""


def rules(config: StackConfig) -> list[str]:
    """One line per EKS rule the config breaks."""
    errors = CLOUD.errors(config)
    vpc = (config.cluster.aws or AwsSettings()).vpc_cidr
    if not VPC_PREFIX_MIN <= vpc.prefixlen <= VPC_PREFIX_MAX:
        errors.append(
            f"{config_key(['cluster', 'aws', 'vpcCidr'])}: '{vpc}' cannot be split into a public and a private "
            f"subnet per zone; use a /{VPC_PREFIX_MIN} to /{VPC_PREFIX_MAX}, e.g. 10.0.0.0/16"
        )
    # In every environment, since the EKS endpoint would take it as it is; a prod-like one refuses it on every cloud
    # already (config/load.py).
    if not config.prod_like:
        errors += open_api_errors(config)
    return errors
