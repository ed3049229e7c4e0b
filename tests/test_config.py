"""Pure tests of the config module: a table of bad configs, each refused with one line naming the key, the
bad value and what is allowed; and the per-environment defaults. No mocks, no Pulumi engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, load_stack_config
from components.config.clouds import CLOUD_RULES
from components.config.model import CLOUDS
from components.secret_data import b64
from tests.conftest import CATALOG, base_config, raw_config
from tools.plan.__main__ import main as plan_main
from tools.plan.plan import PROJECT_DIR
from tools.plan.stackfile import is_ciphertext


def load(values: dict[str, Any], secret_keys: tuple[str, ...] | None = None):
    keys = secret_keys if secret_keys is not None else tuple(f"platform:{k}" for k in values if k[0].islower())
    return load_stack_config(raw_config(values), keys, CATALOG)


def nested(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set `a.b.c` in a copy of `config`."""
    copy: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
    node = copy
    keys = path.split(".")
    for key in keys[:-1]:
        node[key] = dict(node.get(key) or {})
        node = node[key]
    node[keys[-1]] = value
    return copy


GCP_DEV = base_config("gcp", "dev")
AWS_DEV = base_config("aws", "dev")
AWS_PROD = base_config("aws", "prod")
AZURE_DEV = base_config("azure", "dev")
AKS_POOL = {"machineType": "Standard_D4s_v5", "minSize": 1, "maxSize": 3}

# (case, config, secret keys or None for "all platform keys are secret", key named, words the line must carry)
BAD_CONFIGS: list[tuple[str, dict[str, Any], tuple[str, ...] | None, str, tuple[str, ...]]] = [
    ("typo in a top-level key", {**GCP_DEV, "regoin": "x"}, None, "platform:regoin", ("did you mean 'region'",)),
    (
        "typo in a nested key",
        nested(GCP_DEV, "cluster.nodePool", {}),
        None,
        "platform:cluster.nodePool",
        ("did you mean 'nodePools'", "allowed:"),
    ),
    ("unknown namespace", {**GCP_DEV, "platfrom:env": "dev"}, None, "platfrom:env", ("unknown config namespace",)),
    ("unknown cloud", {**GCP_DEV, "cloud": "gpc"}, None, "platform:cloud", ("'gpc'", "'gcp'", "'existing'")),
    ("unknown env", {**GCP_DEV, "env": "qa"}, None, "platform:env", ("'qa'", "mgmt", "prod")),
    ("missing env", {k: v for k, v in GCP_DEV.items() if k != "env"}, None, "platform:env", ("not set",)),
    ("missing region", {k: v for k, v in GCP_DEV.items() if k != "region"}, None, "platform:region", ("required",)),
    (
        "malformed Kubernetes version",
        nested(GCP_DEV, "cluster.kubernetesVersion", "v1.33-latest"),
        None,
        "platform:cluster.kubernetesVersion",
        ("'v1.33-latest'", "1.MINOR"),
    ),
    (
        "min > max nodes",
        nested(GCP_DEV, "cluster.nodePools", {"general": {"machineType": "e2-standard-4", "minSize": 5, "maxSize": 3}}),
        None,
        "platform:cluster.nodePools.general",
        ("minSize 5", "maxSize 3", "<="),
    ),
    (
        "machine type of another cloud",
        nested(GCP_DEV, "cluster.nodePools", {"general": {"machineType": "m6i.large", "minSize": 1, "maxSize": 3}}),
        None,
        "platform:cluster.nodePools.general.machineType",
        ("'m6i.large'", "e2-standard-4"),
    ),
    (
        "a GKE cluster name GKE refuses",
        nested(GCP_DEV, "cluster.name", "cluster-" + "x" * 40),
        None,
        "platform:cluster.name",
        ("48 characters", "at most 40"),
    ),
    (
        "settings of another cloud",
        nested(GCP_DEV, "cluster.aws", {}),
        None,
        "platform:cluster.aws",
        ("cloud is 'gcp'",),
    ),
    (
        "domain name that is not a Kubernetes name",
        {**GCP_DEV, "domains": [{"name": "Pay_ments", "repoUrl": "https://github.com/acme/payments-gitops"}]},
        None,
        "platform:domains.0.name",
        ("'Pay_ments'", "lower-case"),
    ),
    (
        "domain name in the platform's namespace prefix",
        {**GCP_DEV, "domains": [{"name": "platform-x", "repoUrl": "https://github.com/acme/platform-x-gitops"}]},
        None,
        "platform:domains.0.name",
        ("'platform-x'", "reserved", "not start with 'platform-'"),
    ),
    (
        "domain folder in the platform's namespace prefix",
        {
            **{k: v for k, v in GCP_DEV.items() if k != "gitops"},
            "gitServer": {"domainFolders": {"platform-x": "domains/x"}},
        },
        None,
        "platform:domains.0.name",
        ("'platform-x'", "reserved"),
    ),
    (
        "duplicate domains",
        {**GCP_DEV, "domains": [{"name": "payments", "repoUrl": "https://github.com/acme/p"}] * 2},
        None,
        "platform:domains.1.name",
        ("'payments'", "twice"),
    ),
    (
        "domains whose namespaces overlap",
        {
            **GCP_DEV,
            "domains": [
                {"name": "pay", "repoUrl": "https://github.com/acme/pay-gitops"},
                {"name": "pay-dev", "repoUrl": "https://github.com/acme/pay-dev-gitops"},
            ],
        },
        None,
        "platform:domains.1.name",
        ("'pay-dev'", "'pay'", "prefix"),
    ),
    (
        "credentials inside a git URL prefix",
        {**GCP_DEV, "gitCredentials": {"https://user:tok@github.com/acme": {"password": "x"}}},
        None,
        "platform:gitCredentials",
        ("without credentials",),
    ),
    (
        "override of a service that does not exist",
        {**GCP_DEV, "services": {"grafana-operator": {"enabled": True}}},
        None,
        "platform:services.grafana-operator",
        ("not a platform service", "cert-manager"),
    ),
    (
        "floating chart version",
        {**GCP_DEV, "services": {"cert-manager": {"version": "latest"}}},
        None,
        "platform:services.cert-manager.version",
        ("'latest'", "exact version"),
    ),
    (
        "hub topology without a hub stack",
        {**GCP_DEV, "topology": {"mode": "hub"}},
        None,
        "platform:topology.hubStack",
        ("required", "myorg/platform/mgmt"),
    ),
    (
        "plain-text value where a secret is required",
        {**GCP_DEV, "argocdAdminPassword": "hunter2"},
        (),
        "platform:argocdAdminPassword",
        ("plain text", "--secret"),
    ),
    (
        "API open to the Internet in prod",
        nested(AWS_PROD, "cluster.authorizedNetworks", ["0.0.0.0/0"]),
        None,
        "platform:cluster.authorizedNetworks",
        ("'0.0.0.0/0'", "Internet"),
    ),
    (
        "local admin in prod",
        nested(AWS_PROD, "argocd.adminEnabled", True),
        None,
        "platform:argocd.adminEnabled",
        ("prod", "SSO"),
    ),
    (
        "SSO without its client secret",
        {k: v for k, v in base_config("gcp", "mgmt").items() if k != "argocdOidcClientSecret"},
        None,
        "platform:argocdOidcClientSecret",
        ("required", "--secret"),
    ),
    (
        "a hub with SSO but no public host name for its callback",
        {**base_config("gcp", "mgmt"), "argocd": {"sso": {"issuer": "https://login.acme.test", "clientId": "argocd"}}},
        None,
        "platform:argocd.hostname",
        ("required", "argocd.sso", "/auth/callback"),
    ),
    (
        "a host name given as a URL",
        nested(base_config("gcp", "mgmt"), "argocd.hostname", "https://argocd.acme.test"),
        None,
        "platform:argocd.hostname",
        ("'https://argocd.acme.test'", "argocd.example.com"),
    ),
    (
        "adopting a kept Argo CD release on a spoke",
        nested(GCP_DEV, "argocd.adoptRelease", True),
        None,
        "platform:argocd.adoptRelease",
        ("spoke", "mgmt"),
    ),
    (
        "a Kubernetes version YAML read as a number",
        nested(GCP_DEV, "cluster.kubernetesVersion", 1.3),
        None,
        "platform:cluster.kubernetesVersion",
        ("1.3", "a number", 'quote it, e.g. kubernetesVersion: "1.30"'),
    ),
    (
        "a bad env hides no other mistake",
        nested({**GCP_DEV, "env": "qa"}, "cluster.kubernetesVersion", "v1.33-latest"),
        None,
        "platform:cluster.kubernetesVersion",
        ("'v1.33-latest'", "1.MINOR"),
    ),
    (
        "a bad env hides no cloud rule",
        {**GCP_DEV, "env": "qa", "region": "europe-west99"},
        None,
        "platform:region",
        ("'europe-west99'", "not a gcp region"),
    ),
    (
        "an unknown GCP region",
        {**GCP_DEV, "region": "europe-west99"},
        None,
        "platform:region",
        ("'europe-west99'", "not a gcp region", "components/config/regions.yaml"),
    ),
    (
        "an unknown AWS region",
        {**AWS_PROD, "region": "eu-west-9"},
        None,
        "platform:region",
        ("'eu-west-9'", "not an aws region", "regions.yaml", "eu-west-1"),
    ),
    (
        "an Azure location spelled with a dash",
        {**base_config("azure", "dev"), "region": "west-europe"},
        None,
        "platform:region",
        ("'west-europe'", "did you mean 'westeurope'"),
    ),
    (
        "git credentials in plain text",
        {**GCP_DEV, "gitCredentials": {"https://github.com/acme": {"password": "x"}}},
        (),
        "platform:gitCredentials",
        (
            "plain text",
            "pulumi config set --path --secret",
            '\'platform:gitCredentials["https://github.com/acme"]["password"]\'',
        ),
    ),
    # The rules of each cloud (components/config/clouds/), checked before any resource exists.
    (
        "an EKS VPC too large to be a VPC",
        nested(AWS_DEV, "cluster.aws.vpcCidr", "10.0.0.0/8"),
        None,
        "platform:cluster.aws.vpcCidr",
        ("'10.0.0.0/8'", "use a /16 to /22"),
    ),
    (
        "an EKS VPC too small for a public subnet per zone",
        nested(AWS_DEV, "cluster.aws.vpcCidr", "10.0.0.0/23"),
        None,
        "platform:cluster.aws.vpcCidr",
        ("'10.0.0.0/23'", "use a /16 to /22"),
    ),
    (
        "an EKS API open to the Internet, even in dev",
        nested(AWS_DEV, "cluster.authorizedNetworks", ["203.0.113.0/24", "0.0.0.0/0"]),
        None,
        "platform:cluster.authorizedNetworks",
        ("'0.0.0.0/0'", "Internet", "CI and VPN ranges"),
    ),
    (
        "no Kubernetes version on a managed cloud",
        {**AWS_DEV, "cluster": {"aws": {}}},
        None,
        "platform:cluster.kubernetesVersion",
        ("required", "'aws'"),
    ),
    (
        "a GKE stack without its project",
        {**GCP_DEV, "cluster": {"kubernetesVersion": "1.33"}},
        None,
        "platform:cluster.gcp.project",
        ("required", "'gcp'"),
    ),
    (
        "an AKS node pool name with a dash",
        nested(AZURE_DEV, "cluster.nodePools", {"system": AKS_POOL, "gpu-pool": AKS_POOL}),
        None,
        "platform:cluster.nodePools.gpu-pool",
        ("'gpu-pool'", "1-12 lowercase letters and digits"),
    ),
    (
        "an AKS node pool name longer than 12",
        nested(AZURE_DEV, "cluster.nodePools", {"system": AKS_POOL, "generalpurpose1": AKS_POOL}),
        None,
        "platform:cluster.nodePools.generalpurpose1",
        ("'generalpurpose1'", "1-12"),
    ),
    (
        "AKS without a system pool",
        nested(AZURE_DEV, "cluster.nodePools", {"general": AKS_POOL}),
        None,
        "platform:cluster.nodePools",
        ("['general']", "'system'"),
    ),
    (
        "an AKS system pool on Spot",
        nested(AZURE_DEV, "cluster.nodePools", {"system": {**AKS_POOL, "spot": True}}),
        None,
        "platform:cluster.nodePools.system.spot",
        ("true is not allowed", "Spot"),
    ),
    (
        "an AKS system pool that may scale to zero",
        nested(AZURE_DEV, "cluster.nodePools", {"system": {**AKS_POOL, "minSize": 0}}),
        None,
        "platform:cluster.nodePools.system.minSize",
        ("0 is not allowed", "needs a node"),
    ),
    (
        "an AKS OS disk larger than AKS allows",
        nested(AZURE_DEV, "cluster.nodePools", {"system": {**AKS_POOL, "diskSizeGb": 4096}}),
        None,
        "platform:cluster.nodePools.system.diskSizeGb",
        ("4096", "at most 2048"),
    ),
    (
        "an AKS VNet over the overlay's service range",
        nested(AZURE_DEV, "cluster.azure", {"vnetCidr": "10.0.128.0/17"}),
        None,
        "platform:cluster.azure.vnetCidr",
        ("'10.0.128.0/17'", "service range", "outside 10.244.0.0/16 and 10.0.0.0/16"),
    ),
    (
        "an AKS VNet over the overlay's pod range",
        nested(AZURE_DEV, "cluster.azure", {"vnetCidr": "10.244.128.0/17"}),
        None,
        "platform:cluster.azure.vnetCidr",
        ("'10.244.128.0/17'", "pod range"),
    ),
    (
        "node pools on an existing cluster",
        nested(base_config("existing", "local"), "cluster.nodePools", {"general": AKS_POOL}),
        None,
        "platform:cluster.nodePools",
        ("['general']", "does not apply to an existing cluster"),
    ),
    (
        "an existing cluster without its settings",
        {**base_config("existing", "local"), "cluster": {}},
        None,
        "platform:cluster.existing",
        ("required", "'existing'"),
    ),
    (
        "a Crossplane role of another cloud on the hub",
        {**base_config("aws", "mgmt"), "crossplane": {"roles": ["roles/cloudsql.admin"]}},
        None,
        "platform:crossplane.roles.0",
        ("'roles/cloudsql.admin'", "not an aws role", "arn:aws:iam::aws:policy/"),
    ),
    (
        "an existing cluster without its context",
        {**base_config("existing", "local"), "cluster": {"existing": {}}},
        None,
        "platform:cluster.existing.context",
        ("required",),
    ),
]


@pytest.mark.parametrize(
    ("values", "secret_keys", "key", "words"),
    [case[1:] for case in BAD_CONFIGS],
    ids=[case[0] for case in BAD_CONFIGS],
)
def test_bad_config_is_refused_with_one_line_naming_the_key(
    values: dict[str, Any], secret_keys: tuple[str, ...] | None, key: str, words: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(values, secret_keys)
    lines = raised.value.lines
    matching = [line for line in lines if line.startswith(f"{key}:")]
    assert matching, f"no line names {key}: {lines}"
    assert all("\n" not in line for line in lines)
    for word in words:
        assert word in matching[0], f"{word!r} missing from {matching[0]!r}"


# Mistakes in the stack file itself, run through the plan CLI: (case, file text, words the one line must carry).
BAD_STACK_FILES: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "YAML syntax error",
        "config:\n  platform:env: dev\n  platform:cloud: gcp\n    platform:region: europe-west1\n",
        ("Pulumi.bad.yaml:4:", "not valid YAML", "mapping values are not allowed"),
    ),
    (
        "a secure: value that is not ciphertext",
        "config:\n  platform:argocdAdminPassword:\n    secure: hunter2 !\n",
        ("platform:argocdAdminPassword:", "`secure:`", "pulumi config set --secret platform:argocdAdminPassword"),
    ),
    (
        "a secure: value that is a plain word",
        "config:\n  platform:argocdAdminPassword:\n    secure: hunter2\n",
        ("platform:argocdAdminPassword:", "not ciphertext", "pulumi config set --secret platform:argocdAdminPassword"),
    ),
    (
        "a secure: value that is a plain word in the base64 alphabet",
        "config:\n  platform:argocdAdminPassword:\n    secure: mysecretpassword\n",
        ("platform:argocdAdminPassword:", "not ciphertext"),
    ),
    (
        "a secure: value that is a number",
        "config:\n  platform:notificationsToken:\n    secure: 42\n",
        ("platform:notificationsToken:", "holds int", "ciphertext"),
    ),
    (
        "a nested secure: value that is not ciphertext",
        "config:\n  platform:gitCredentials:\n    https://github.com/acme:\n      password:\n        secure: ''\n",
        (
            "platform:gitCredentials.https://github.com/acme.password:",
            'pulumi config set --path --secret \'platform:gitCredentials["https://github.com/acme"]["password"]\'',
        ),
    ),
    (
        "an unquoted Kubernetes version",
        "config:\n  platform:env: dev\n  platform:cluster:\n    kubernetesVersion: 1.30\n",
        ("platform:cluster.kubernetesVersion: 1.3", "quote it"),
    ),
]


@pytest.mark.parametrize(("text", "words"), [c[1:] for c in BAD_STACK_FILES], ids=[c[0] for c in BAD_STACK_FILES])
def test_bad_stack_file_is_refused_by_the_plan_with_one_line_and_exit_2(
    text: str, words: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = tmp_path / "Pulumi.bad.yaml"
    stack_file.write_text(text)
    code = plan_main(["--stack", "bad", "--config-file", str(stack_file), "--out", str(tmp_path / "plan")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and "hunter2" not in err
    matching = [line for line in err.splitlines() if all(word in line for word in words)]
    assert matching, f"no line carries {words}: {err}"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["tools.plan", "--stack", "dev", "--out", "plan/dev"], "make plan STACK=<stack>"),
        (["tools.gitops_init", "--dest", "../platform-gitops"], "before `python -m tools.gitops_init`"),
    ],
)
def test_a_tool_outside_the_virtualenv_says_how_to_run_it(command: list[str], says: str) -> None:
    # `-S` leaves out site-packages, as a system Python without the project's packages would.
    done = subprocess.run(
        [sys.executable, "-S", "-m", *command], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert says in done.stderr and ".venv/bin/activate" in done.stderr


def test_secret_values_are_never_echoed_in_errors() -> None:
    values = {**GCP_DEV, "gitCredentials": {"https://github.com/acme": {"password": 42, "extra": "hunter2"}}}
    with pytest.raises(ConfigError) as raised:
        load(values)
    assert "hunter2" not in str(raised.value)
    assert "platform:gitCredentials" in str(raised.value)


@pytest.mark.parametrize("cloud", ["gcp", "aws", "azure", "existing"])
@pytest.mark.parametrize("env", ["dev", "staging", "prod", "mgmt"])
def test_valid_configs_parse_for_every_cloud_and_env(cloud: str, env: str) -> None:
    config = load(base_config(cloud, env))
    assert config.cloud == cloud
    assert config.env == env


def test_prod_defaults_protect_and_run_ha_argo_cd_with_larger_pools() -> None:
    prod = load(base_config("aws", "prod"))
    dev = load(base_config("aws", "dev"))
    assert prod.protect and not dev.protect
    assert prod.argocd.ha and not dev.argocd.ha
    assert not prod.argocd.admin_enabled and dev.argocd.admin_enabled
    prod_pools, dev_pools = prod.cluster.node_pools or {}, dev.cluster.node_pools or {}
    assert prod_pools["general"].max_size > dev_pools["general"].max_size
    assert prod_pools["general"].machine_type != dev_pools["general"].machine_type


def test_stack_values_win_over_environment_defaults() -> None:
    config = load({**base_config("gcp", "prod"), "protect": False})
    assert config.protect is False
    pools = {"only": {"machineType": "e2-standard-8", "minSize": 2, "maxSize": 4}}
    config = load(nested(base_config("gcp", "dev"), "cluster.nodePools", pools))
    assert list(config.cluster.node_pools or {}) == ["only"]


def test_local_defaults_to_standalone_and_runs_its_own_argo_cd() -> None:
    config = load(base_config("existing", "local"))
    assert config.topology.mode == "standalone"
    assert config.is_hub


def test_config_is_immutable() -> None:
    config = load(base_config("gcp", "dev"))
    with pytest.raises(Exception, match="frozen"):
        config.env = "prod"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("stack", "env"),
    [("prod", "local"), ("acme/platform/prod", "dev"), ("prod-eu", "staging"), ("staging", "prod")],
)
def test_a_stack_named_after_one_env_cannot_be_configured_as_another(stack: str, env: str) -> None:
    values = base_config("aws", env)
    with pytest.raises(ConfigError) as caught:
        load_stack_config(raw_config(values), tuple(f"platform:{k}" for k in values), CATALOG, stack=stack)
    assert len(caught.value.lines) == 1
    line = caught.value.lines[0]
    assert line.startswith("platform:env:") and repr(env) in line and repr(stack) in line, line


@pytest.mark.parametrize(("stack", "env"), [("prod", "prod"), ("acme/platform/dev", "dev"), ("sandbox", "dev")])
def test_a_stack_may_be_named_after_its_env_or_after_none(stack: str, env: str) -> None:
    values = base_config("aws", env)
    keys = tuple(f"platform:{k}" for k in values)
    assert load_stack_config(raw_config(values), keys, CATALOG, stack=stack).env == env


def test_the_program_refuses_a_prod_stack_configured_as_local_before_registering_anything() -> None:
    import pulumi  # noqa: PLC0415 - the rest of this module needs no engine

    from tools.plan.runner import Plan, run_program  # noqa: PLC0415

    plan = Plan(stack="prod")
    refused = r"^platform:env: 'local' does not match the stack 'prod', which names prod"
    with pytest.raises(pulumi.RunError, match=refused):
        run_program("prod", raw_config(base_config("existing", "local")), [], plan)
    assert plan.resources == []


def test_every_cloud_has_its_rules() -> None:
    assert set(CLOUD_RULES) == set(CLOUDS)


def test_a_mistake_two_rules_refuse_is_one_line() -> None:
    # On aws in prod both the rule of every prod-like env and the EKS rule refuse the whole Internet.
    with pytest.raises(ConfigError) as raised:
        load(nested(AWS_PROD, "cluster.authorizedNetworks", ["0.0.0.0/0"]))
    assert [line for line in raised.value.lines if "authorizedNetworks" in line] == [
        "platform:cluster.authorizedNetworks: '0.0.0.0/0' opens the Kubernetes API to the whole Internet; list your "
        "CI and VPN ranges instead"
    ]


def test_a_vpc_eks_cannot_split_stops_the_plan_and_the_program_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: `vpcCidr: 10.0.0.0/8` was a 42-line traceback from inside the EKS constructor."""
    import pulumi  # noqa: PLC0415 - the rest of this module needs no engine

    from tools.plan.runner import Plan, run_program  # noqa: PLC0415

    text = (PROJECT_DIR / "Pulumi.prod.yaml").read_text()
    assert "    aws:\n      availabilityZones: 3\n" in text
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(text.replace("    aws:\n", "    aws:\n      vpcCidr: 10.0.0.0/8\n"))
    code = plan_main(["--stack", "prod", "--config-file", str(stack_file), "--out", str(tmp_path / "plan")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        "error: platform:cluster.aws.vpcCidr: '10.0.0.0/8' cannot be split into a public and a private subnet per "
        "zone; use a /16 to /22, e.g. 10.0.0.0/16"
    ]
    # The program itself: __main__.py turns the ConfigError into a RunError, which the language host prints alone.
    plan = Plan(stack="prod")
    values = nested(AWS_PROD, "cluster.aws.vpcCidr", "10.0.0.0/8")
    with pytest.raises(pulumi.RunError, match=r"^platform:cluster\.aws\.vpcCidr: '10\.0\.0\.0/8'[^\n]*$"):
        run_program("prod", raw_config(values), [f"platform:{key}" for key in values], plan)
    assert plan.resources == []


@pytest.mark.parametrize(
    ("secure", "accepted"),
    [
        # What the passphrase and cloud KMS providers write: v1, a 12-byte nonce, the sealed value and its tag.
        (f"v1:{b64(bytes(12))}:{b64(bytes(16 + 7))}", True),
        # An empty secret seals to the tag alone.
        (f"v1:{b64(bytes(12))}:{b64(bytes(16))}", True),
        # What the Pulumi Cloud provider writes: base64 ciphertext.
        (b64(bytes(60)), True),
        (f"v1:{b64(bytes(8))}:{b64(bytes(23))}", False),
        (f"v2:{b64(bytes(12))}:{b64(bytes(23))}", False),
        ("mysecretpassword", False),
        ("hunter2", False),
        ("", False),
    ],
)
def test_ciphertext_is_what_pulumi_writes(secure: str, accepted: bool) -> None:
    assert is_ciphertext(secure) is accepted
