"""Sealed Secrets key continuity: every stack writes the controller's sealing key before its cluster is registered
with Argo CD, keeps the key independent of the cluster, exports the public certificate, and never lets the private
key out unmasked. Key pairs for config are generated in tests/sealing_keys.py (real RSA, no key in Git)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog import PodSecurity, load_catalog
from components.config import ConfigError, load_stack_config
from components.config.model import UNREADABLE_SECRET
from components.gitops import appsets
from components.naming import POD_SECURITY_ENFORCE
from components.pem import KeyPairError, read_certificate, read_private_key
from components.sealed_secrets import (
    KEY_LABEL,
    SealedSecretsKeyArgs,
    check_key_pair,
    controller_namespace,
    namespace_labels,
)
from tests.conftest import CATALOG, SHIPPED_STACKS, base_config, one, raw_config, secret_keys_of
from tests.sealing_keys import KeyPair, key_pair
from tools.plan.applications import cluster_params
from tools.plan.gotemplate import render_tree
from tools.plan.mocks.tls import MOCK_CERTIFICATE, MOCK_PRIVATE_KEY
from tools.plan.plan import stack_file
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource
from tools.plan.stackfile import PLACEHOLDER, read_stack_file
from tools.plan.writer import write_plan

SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:NamespacePatch"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
CERTIFICATE = "tls:index/selfSignedCert:SelfSignedCert"
COMPONENT = "platform:sealedsecrets:SealedSecretsKey"
REGISTRATION = "platform:gitops:ClusterRegistration"
OUTPUT = "sealedSecretsCertificate"

ACTIVE = key_pair(1)
OLDER = key_pair(2, not_before=datetime(2024, 1, 1, tzinfo=UTC))


def config_key(pair: KeyPair, retired: list[KeyPair] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"certificate": pair.certificate, "privateKey": pair.private_key}
    if retired is not None:
        value["retired"] = [{"certificate": r.certificate, "privateKey": r.private_key} for r in retired]
    return value


def key_secrets(plan: Plan) -> list[RecordedResource]:
    return [r for r in plan.by_type(SECRET) if (r.inputs["metadata"].get("labels") or {}).get(KEY_LABEL) == "active"]


def env_of(stack: str) -> str:
    raw, _ = read_stack_file(stack_file(stack))
    return str(raw["platform:env"])


def load(values: dict[str, Any], secret: bool = True) -> Any:
    return load_stack_config(raw_config(values), secret_keys_of(values) if secret else [], CATALOG)


def refusal(values: dict[str, Any], secret: bool = True) -> str:
    with pytest.raises(ConfigError) as raised:
        load(values, secret)
    return str(raised.value)


def key_material(pair: KeyPair) -> list[str]:
    """Every form the private key could leak in: its PEM, each base64 line, and the base64 of the whole PEM."""
    lines = [line for line in pair.private_key.splitlines() if line and "-----" not in line]
    return [pair.private_key, base64.b64encode(pair.private_key.encode()).decode(), *lines]


def written_text(plan: Plan, out: Path) -> str:
    write_plan(plan, out)
    return "\n".join(p.read_text() for p in sorted(out.rglob("*")) if p.is_file())


# ---------------------------------------------------------------------------------------------------------
# Every shipped stack
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_stack_writes_the_active_key_secret_masked(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    env = env_of(stack)
    (secret,) = key_secrets(plan)
    metadata = secret.inputs["metadata"]
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert metadata["namespace"] == controller_namespace(env, load_catalog()) == f"platform-{env}-security"
    assert metadata["name"].startswith("sealed-secrets-key"), "the controller's --key-prefix"
    assert secret.inputs["data"] == dict.fromkeys(["tls.crt", "tls.key"], SECRET_MASK), "tls.key is a secret"
    # On this stack's own cluster, after its namespace.
    ns = next(r for r in plan.by_type(NAMESPACE) if r.inputs["metadata"]["name"] == metadata["namespace"])
    assert ns.urn in secret.dependency_urns
    assert secret.provider_urn == ns.provider_urn
    assert secret.provider_urn is not None and "-k8s" in secret.provider_urn


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_registrations_wait_for_the_key(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    registrations = plan.by_type(REGISTRATION)
    assert registrations, "a hub registers its own cluster, a spoke registers with the hub"
    (secret,) = key_secrets(plan)
    for registration in registrations:
        (cluster_secret,) = [r for r in plan.by_type(SECRET) if r.parent_urn == registration.urn]
        # On the component (its children start after it) or on the cluster Secret itself.
        waits = set(registration.dependency_urns) | set(cluster_secret.dependency_urns)
        assert secret.urn in waits, f"{registration.name} can be created before the sealing key"


def test_resources_json_shows_the_registration_depending_on_the_key(
    shipped_plans: dict[str, Plan], tmp_path: Path
) -> None:
    write_plan(shipped_plans["mgmt"], tmp_path)
    resources = json.loads((tmp_path / "resources.json").read_text())
    (registration,) = [r for r in resources if r["type"] == REGISTRATION]
    (cluster_secret,) = [r for r in resources if r["type"] == SECRET and r["parent"] == registration["name"]]
    depends_on = registration["dependsOn"] + cluster_secret["dependsOn"]
    assert "sealed-secrets-key-generated" in depends_on
    assert "platform-mgmt-security" in depends_on


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_certificate_is_a_plain_output(shipped_plans: dict[str, Plan], stack: str) -> None:
    assert shipped_plans[stack].outputs[OUTPUT] == MOCK_CERTIFICATE


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_generated_key_is_independent_of_the_cluster(shipped_plans: dict[str, Plan], stack: str) -> None:
    plan = shipped_plans[stack]
    key = one(plan, PRIVATE_KEY)
    # A rename or a new parent changes the URN, and a new URN is a new key: SealedSecrets in Git would be lost.
    assert key.urn == f"urn:pulumi:{stack}::platform::{COMPONENT}${PRIVATE_KEY}::sealed-secrets-private-key"
    assert key.inputs == {"algorithm": "RSA", "rsaBits": 4096}, "any other input replaces the key"
    assert key.dependency_urns == [], "nothing of the cluster's may replace or delay it"
    assert key.provider_urn is None, "the default tls provider: a Kubernetes provider would follow the cluster"
    component = next(r for r in plan.resources if r.urn == key.parent_urn)
    assert component.parent_urn is not None and component.parent_urn.endswith("::platform-" + stack)
    protect = stack in {"mgmt", "staging", "prod"}
    assert key.protect is protect
    certificate = one(plan, CERTIFICATE)
    assert certificate.inputs["subject"] == {"commonName": "sealed-secret", "organization": "sealed-secret"}
    assert certificate.inputs["privateKeyPem"] == SECRET_MASK
    assert certificate.inputs["validityPeriodHours"] == 87600


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_generated_private_key_never_leaves_the_state_unmasked(
    shipped_plans: dict[str, Plan], stack: str, tmp_path: Path
) -> None:
    plan = shipped_plans[stack]
    text = written_text(plan, tmp_path)
    assert MOCK_PRIVATE_KEY not in text
    assert base64.b64encode(MOCK_PRIVATE_KEY.encode()).decode() not in text
    assert "PRIVATE KEY" not in text
    # It did reach the program, as a secret.
    assert base64.b64encode(MOCK_PRIVATE_KEY.encode()).decode() in plan.secret_values


def test_a_service_turned_off_does_not_weaken_the_controllers_namespace() -> None:
    shipped = load_catalog()
    weaker = shipped.services["reflector"].model_copy(
        update={"pod_security": PodSecurity(level="baseline", reason="a weaker neighbour")}
    )
    catalog = shipped.model_copy(update={"services": {**shipped.services, "reflector": weaker}})
    assert namespace_labels("dev", catalog)[POD_SECURITY_ENFORCE] == "baseline"
    assert namespace_labels("dev", catalog, {"sealed-secrets", "kong"})[POD_SECURITY_ENFORCE] == "restricted"
    config = load_stack_config(
        raw_config(base_config("existing", "dev", services={"reflector": {"enabled": False}})),
        secret_keys_of({}),
        CATALOG,
    )
    enabled = SealedSecretsKeyArgs.from_config(config, CATALOG).enabled
    assert enabled is not None and "sealed-secrets" in enabled and "reflector" not in enabled


def test_namespace_labels_match_what_argo_cd_sets(shipped_plans: dict[str, Plan]) -> None:
    """Argo CD's CreateNamespace adopts the namespace and server-side applies its managedNamespaceMetadata: with
    equal values the two field managers share the labels instead of fighting over them."""
    catalog = load_catalog()
    service = catalog.services["sealed-secrets"]
    template = appsets.child_application(service, appsets.namespace_pod_security_template(service, catalog))
    plan = shipped_plans["dev"]
    # The dev cluster's registration, whose labels pick the namespace's level (the services enabled there).
    [params] = cluster_params(plan)
    rendered = render_tree(
        {
            "namespace": template["spec"]["destination"]["namespace"],
            "labels": template["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"],
        },
        params,
    )
    assert rendered["namespace"] == controller_namespace("dev", catalog)
    ours = namespace_labels("dev", catalog)
    assert {k: v for k, v in ours.items() if k in rendered["labels"]} == rendered["labels"]
    assert set(ours) - set(rendered["labels"]) == {"app.kubernetes.io/managed-by"}
    ns = next(r for r in plan.by_type(NAMESPACE) if r.inputs["metadata"]["name"] == rendered["namespace"])
    assert ns.inputs["metadata"]["labels"] == ours
    assert ns.retain_on_delete, "Argo CD's applications run in it"


# ---------------------------------------------------------------------------------------------------------
# A key pair from config
# ---------------------------------------------------------------------------------------------------------


def test_config_key_is_used_instead_of_generating_one(run_config: Callable[..., Plan], tmp_path: Path) -> None:
    plan = run_config(base_config("aws", "prod", sealedSecretsKey=config_key(ACTIVE, [OLDER])))
    assert not plan.by_type(PRIVATE_KEY) and not plan.by_type(CERTIFICATE)
    fingerprints = [read_certificate(p.certificate).fingerprint[:12] for p in (ACTIVE, OLDER)]
    assert sorted(r.inputs["metadata"]["name"] for r in key_secrets(plan)) == sorted(
        f"sealed-secrets-key-{f}" for f in fingerprints
    ), "one Secret per pair, named after its key so it survives moving to `retired`"
    assert all(r.inputs["data"] == dict.fromkeys(["tls.crt", "tls.key"], SECRET_MASK) for r in key_secrets(plan))
    assert plan.outputs[OUTPUT] == ACTIVE.certificate, "the active certificate, not a retired one"
    text = written_text(plan, tmp_path)
    for pair in (ACTIVE, OLDER):
        assert not [m for m in key_material(pair) if m in text]
        assert base64.b64encode(pair.private_key.encode()).decode() in plan.secret_values
    assert "PRIVATE KEY" not in text


def test_plain_text_key_is_refused() -> None:
    values = base_config("gcp", "dev", sealedSecretsKey=config_key(ACTIVE))
    message = refusal(values, secret=False)
    assert "platform:sealedSecretsKey: is plain text but must be a secret" in message
    assert not [m for m in key_material(ACTIVE) if m in message]


def test_pkcs8_and_pkcs1_keys_are_read() -> None:
    pkcs8 = key_pair(1, pkcs8=True)
    assert read_private_key(pkcs8.private_key) == read_private_key(ACTIVE.private_key)
    assert load(base_config("gcp", "dev", sealedSecretsKey=config_key(pkcs8))).sealed_secrets_key is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"certificate": ACTIVE.certificate, "privateKey": OLDER.private_key},
            "privateKey does not belong to certificate",
        ),
        ({"certificate": "not a certificate", "privateKey": ACTIVE.private_key}, "one PEM block"),
        ({"certificate": ACTIVE.certificate, "privateKey": "/home/me/sealing.key"}, "one PEM private key block"),
        (config_key(key_pair(1, not_after=datetime(2025, 1, 1, tzinfo=UTC))), "certificate expired on 2025-01-01"),
        (config_key(OLDER, [ACTIVE]), "the active pair must be the newest"),
        (config_key(ACTIVE, [ACTIVE]), "list each key pair once"),
        (config_key(key_pair(9, bits=1024)), "use at least 2048"),
    ],
)
def test_unusable_key_pairs_are_refused_without_echoing_the_key(value: dict[str, Any], expected: str) -> None:
    message = refusal(base_config("gcp", "dev", sealedSecretsKey=value))
    assert expected in message
    assert message.startswith("platform:sealedSecretsKey")
    assert "PRIVATE KEY" not in message


def test_encrypted_or_non_rsa_keys_are_refused() -> None:
    lines = ACTIVE.private_key.splitlines()
    encrypted = "\n".join([lines[0], "Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,00", "", *lines[1:]])
    with pytest.raises(KeyPairError, match="encrypted"):
        check_key_pair(ACTIVE.certificate, encrypted)
    ec = ACTIVE.private_key.replace("RSA PRIVATE KEY", "EC PRIVATE KEY")
    with pytest.raises(KeyPairError, match="not an RSA key"):
        check_key_pair(ACTIVE.certificate, ec)


def test_a_plan_without_the_secrets_provider_reads_the_public_certificate() -> None:
    """A stack file keeps the certificate plain and the private key `secure:`; the credential-free plan stands a
    placeholder in for the key, which cannot be checked there, and still exports the real certificate."""
    assert UNREADABLE_SECRET == PLACEHOLDER
    value = {"certificate": ACTIVE.certificate, "privateKey": PLACEHOLDER}
    config = load(base_config("gcp", "dev", sealedSecretsKey=value))
    assert config.sealed_secrets_key is not None
    assert config.sealed_secrets_key.certificate == ACTIVE.certificate
    bad = {"certificate": PLACEHOLDER, "privateKey": PLACEHOLDER}
    assert "certificate must be one PEM block" in refusal(base_config("gcp", "dev", sealedSecretsKey=bad))


# ---------------------------------------------------------------------------------------------------------
# The controller's values in the starter repository
# ---------------------------------------------------------------------------------------------------------

VALUES_ROOT = Path(__file__).resolve().parents[1] / "starters" / "platform-gitops" / "k8s" / "platform"


def test_controller_never_generates_a_key_of_its_own() -> None:
    """A key the controller generated would exist only in its cluster; the stack's key is the only one."""
    base = yaml.safe_load((VALUES_ROOT / "_base" / "sealed-secrets" / "values.yaml").read_text())
    assert base["keyrenewperiod"] == "0", 'a string: the chart passes the flag only when it is not ""'
    assert base["fullnameOverride"] == "sealed-secrets-controller", "kubeseal's --controller-name default"
    layers = sorted(VALUES_ROOT.glob("*/sealed-secrets/values.yaml")) + sorted(
        VALUES_ROOT.glob("_cloud/*/sealed-secrets/values.yaml")
    )
    for layer in layers:
        values = yaml.safe_load(layer.read_text()) or {}
        if layer.parent.parent.name != "_base":
            assert not {"keyrenewperiod", "keycutofftime", "fullnameOverride"} & set(values), layer
