"""Starts the policy pack. The CLI runs this file with the pack's directory first on sys.path, hence `policies`
and not `policy.policies`; nothing else may import it, as `PolicyPack` serves gRPC until killed."""

from policies import POLICIES
from pulumi_policy import PolicyPack

PolicyPack(name="platform-posture", policies=POLICIES)
