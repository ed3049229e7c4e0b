"""The semantic key: names and labels every component takes from components/naming.py."""

from __future__ import annotations

import pytest

from components.naming import (
    backstage_component,
    check_dns_label,
    cluster_name,
    fixed_namespace_labels,
    managed_by_labels,
    namespace,
    semantic_labels,
    semantic_labels_of,
)
from tests.spelled import PROJECT, program_sources, string_constants


def test_the_brief_example() -> None:
    assert namespace("payments", "prod", "api") == "payments-prod-api"
    assert cluster_name("prod") == "cluster-prod"


def test_fixed_namespaces_carry_the_semantic_labels() -> None:
    labels = fixed_namespace_labels("argocd", "mgmt")
    assert labels["project"] == "platform"
    assert labels["service"] == "argocd"
    assert labels["env"] == "mgmt"
    assert labels["backstage.io/component"] == "platform-argocd"


def test_labels_identify_the_backstage_component() -> None:
    labels = semantic_labels("payments", "dev", "api")
    assert labels["backstage.io/kubernetes-id"] == "payments-api"


@pytest.mark.parametrize("bad", ["Payments", "a_b", "-a", "a-", "x" * 64, ""])
def test_invalid_kubernetes_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_dns_label(bad)


def test_a_name_that_grows_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 63"):
        namespace("a" * 30, "staging", "b" * 30)


SEMANTIC_KEYS = ("backstage.io/", "pod-security.kubernetes.io/")
"""The semantic namespace labels' own keys (`project`, `env`, `service` are words too common to search for)."""


def test_only_naming_spells_the_namespace_label_keys() -> None:
    offenders = [
        f"{path.relative_to(PROJECT)}:{line}: {value!r}"
        for path in program_sources()
        if path != PROJECT / "components" / "naming.py"
        for line, value in string_constants(path.read_text())
        if any(key in value for key in SEMANTIC_KEYS)
    ]
    assert not offenders, "take these labels from components/naming.py:\n" + "\n".join(offenders)


def test_argo_cd_managed_namespaces_carry_the_semantic_labels_without_managed_by() -> None:
    # What Argo CD creates (managedNamespaceMetadata) is labelled like what Pulumi creates, but for managed-by.
    pulumi_made = semantic_labels("payments", "dev", "api")
    argo_made = semantic_labels_of("payments", "dev", "api", backstage_component("payments", "api"))
    assert pulumi_made == {**argo_made, **managed_by_labels()}
    assert "app.kubernetes.io/managed-by" not in argo_made
    templated = semantic_labels_of("payments", "{{.env}}", "{{.service}}", "payments-{{.service}}")
    assert templated["backstage.io/kubernetes-id"] == templated["backstage.io/component"] == "payments-{{.service}}"
