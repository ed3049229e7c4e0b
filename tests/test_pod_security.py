"""Pod Security: every platform and domain namespace carries its Pod Security Admission labels, and every cluster
gets the admission policy that keeps a domain's namespace at `restricted` (components/gitops/pod_security.py).
Its behaviour on a real API server is in tests/integration."""

from __future__ import annotations

import re

import pytest

from components.config.model import ENVIRONMENTS
from components.gitops.pod_security import POD_SECURITY_GUARD, domain_namespace_pattern
from tools.plan.runner import Plan

POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("payments-prod-api", True),
        ("payments-dev-infra", True),
        ("team-a-staging-web-ui", True),
        ("platform-prod-monitoring", True),  # named like one; the policy's condition leaves platform- out
        ("kube-system", False),
        ("argocd", False),
        ("gke-managed-system", False),
        ("payments-production-api", False),
    ],
)
def test_the_semantic_key_pattern(name: str, domain: bool) -> None:
    assert bool(re.match(domain_namespace_pattern(ENVIRONMENTS), name)) is domain


def test_every_shipped_stack_installs_the_guard_on_its_own_cluster(shipped_plans: dict[str, Plan]) -> None:
    for stack, plan in shipped_plans.items():
        (policy,) = (
            plan.by_type(POLICY)
            if stack != "mgmt"
            else [p for p in plan.by_type(POLICY) if p.inputs["metadata"]["name"] == POD_SECURITY_GUARD]
        )
        spec = policy.inputs["spec"]
        assert spec["failurePolicy"] == "Fail"
        assert spec["matchConstraints"]["resourceRules"][0]["operations"] == ["CREATE", "UPDATE"]
        assert "!object.metadata.name.startsWith('platform-')" in spec["matchConditions"][0]["expression"]
        bindings = [b for b in plan.by_type(BINDING) if b.inputs["spec"]["policyName"] == POD_SECURITY_GUARD]
        assert [b.inputs["spec"]["validationActions"] for b in bindings] == [["Deny"]], stack
        cluster_provider = next(r for r in plan.by_type("pulumi:providers:kubernetes") if r.name != "hub-k8s")
        assert (policy.provider_urn or "").startswith(cluster_provider.urn), stack
