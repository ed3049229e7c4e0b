"""The cluster-Secret contract (components/cluster_secret.py) is spelled once: every other source takes its names."""

from __future__ import annotations

import re

import pytest

from components import cluster_secret as contract
from tests.spelled import PROJECT, program_sources, string_constants

CONTRACT = PROJECT / "components" / "cluster_secret.py"

SPELLED_INSIDE = re.compile(
    r"argocd\.argoproj\.io/secret-type|kubernetes\.default\.svc|\{\{\.(name|server)\}\}"
    r"|(?<![\w.])\.metadata\.(labels|annotations)\b"
)
"""The Argo CD label, the in-cluster server, and a Go template reading the cluster Secret being templated
(`{{.name}}`, `.metadata.labels`; not an Application's `.app.metadata.labels` nor CEL's `object.metadata.labels`)."""
KEYS = (
    contract.CLUSTER_NAME,
    contract.APP_SUFFIX,
    contract.OIDC_ISSUER_URL,
    contract.STORAGE_CLASS,
    contract.LOAD_BALANCER,
    contract.GITOPS_REPO_URL,
    contract.GITOPS_REVISION,
    contract.GITOPS_VALUES_PATH,
)
"""Whole strings: the platform's own keys. `env`, `cloud`, `region`, `server` and `account` are left out: those words
also name other things (an Application's labels, the hub document's fields)."""
PREFIXES = ("enable_", "pod_security_", "version_", "identity_")
"""The start of a string or f-string: the per-service and per-add-on keys."""


def contract_literals(source: str) -> list[tuple[int, str]]:
    """(line, string) for every string constant of `source` that spells part of the contract."""
    return [
        (line, value)
        for line, value in string_constants(source)
        if SPELLED_INSIDE.search(value) or value in KEYS or value.startswith(PREFIXES)
    ]


def test_no_source_but_the_contract_spells_a_cluster_secret_key() -> None:
    files = program_sources()
    assert CONTRACT in files and len(files) > 50
    offenders = [
        f"{path.relative_to(PROJECT)}:{line}: {value!r}"
        for path in files
        if path != CONTRACT
        for line, value in contract_literals(path.read_text())
    ]
    assert not offenders, "take these names from components/cluster_secret.py:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        'labels = {"argocd.argoproj.io/secret-type": "cluster"}',
        'selector = {"key": "cluster-name", "operator": "NotIn"}',
        'url = "{{.metadata.annotations.gitops_repo_url}}"',
        "name = 'x-{{default .metadata.labels.env (index .metadata.labels \"app_suffix\")}}'",
        'key = f"identity_{addon}"',
        'destination = {"server": "https://kubernetes.default.svc"}',
        'destination = {"server": "{{.server}}"}',
    ],
)
def test_the_check_finds_a_spelled_out_key(source: str) -> None:
    assert contract_literals(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Reads `.metadata.labels.env` and `cluster-name`."""\nx = 1\n',
        '__all__ = ["app_suffix", "enable_label"]',
        "cel = 'object.metadata.labels'",
        "message = '{{index .app.metadata.labels \"cluster\"}}'",
    ],
)
def test_the_check_passes_prose_exports_and_other_objects_labels(source: str) -> None:
    assert contract_literals(source) == []


def test_the_keys_are_argo_cds_and_go_template_safe() -> None:
    # The label Argo CD's cluster informer selects on (docs/operator-manual/declarative-setup.md, Clusters).
    assert contract.SECRET_TYPE_LABEL == "argocd.argoproj.io/secret-type"
    assert contract.is_cluster_secret({contract.SECRET_TYPE_LABEL: "cluster"})
    assert not contract.is_cluster_secret({contract.SECRET_TYPE_LABEL: contract.REPO_CREDS_SECRET_TYPE})
    # Every key a template reads with `.a.b` must be free of `-`; cluster-name is only selected on.
    templated = [contract.ENV, contract.CLOUD, contract.GITOPS_REPO_URL, contract.GITOPS_REVISION]
    assert all("-" not in key for key in [*templated, contract.GITOPS_VALUES_PATH, contract.APP_SUFFIX])
    assert contract.enable_label("cert-manager") == "enable_cert_manager"
    assert contract.label(contract.ENV) == "{{.metadata.labels.env}}"
    assert contract.optional_label_expr("enable_x") == '(index .metadata.labels "enable_x")'


def test_a_shared_namespace_is_labelled_by_its_group() -> None:
    class Named:
        name = "loki"
        group: str | None = "observability"

    assert contract.pod_security_label(Named()) == "pod_security_observability"
    Named.group = None
    assert contract.pod_security_label(Named()) == "pod_security_loki"
