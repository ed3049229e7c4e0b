"""The semantic key: names and labels every component takes from components/naming.py."""

from __future__ import annotations

import pytest

from components.naming import (
    check_dns_label,
    cluster_name,
    fixed_namespace_labels,
    namespace,
    semantic_labels,
)


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
