"""The Argo CD seed as the program registers it (real `__main__.py` under the mocks): what is created on which
stack, how the bootstrap release hands over to the `argocd` Application, and that no secret reaches the plan."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.argocd import RELEASE_IGNORED_CHANGES, SYNC_POLICY
from components.argocd.bootstrap import ADMIN_PASSWORD_CHANGE_SECRET
from components.argocd.credentials import admin_password_hash
from components.catalog import load_catalog
from tests.conftest import argocd_release, base_config, configured_repo_url, one
from tools.plan.mocks.kubernetes import CREATION_TIMESTAMP
from tools.plan.runner import SECRET_MASK, Plan, RecordedResource
from tools.plan.writer import HELM_RELEASE, write_plan

RELEASE = HELM_RELEASE
NAMESPACE = "kubernetes:core/v1:Namespace"
NAMESPACE_PATCH = "kubernetes:core/v1:NamespacePatch"
SECRET = "kubernetes:core/v1:Secret"
SECRET_PATCH = "kubernetes:core/v1:SecretPatch"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APP_PROJECT_PATCH = "kubernetes:argoproj.io/v1alpha1:AppProjectPatch"

# Plain values of every secret the test configs set; none of them, nor its base64 form, may reach a plan file.
SECRETS = {
    "admin": "adm1n-Passw0rd-local",
    "oidc": "oidc-client-s3cret-value",
    "token": "xoxb-notifications-t0ken",
    "git": "ghp-g1t-passw0rd-value",
}
DOMAINS = [
    {
        "name": "payments",
        "repoUrl": "https://github.com/acme/payments-gitops",
        "adminGroups": ["payments-leads"],
        "viewerGroups": ["payments-devs"],
    },
    {"name": "kube", "repoUrl": "https://github.com/acme/kube-gitops"},
]
GIT_CREDENTIALS = {"https://github.com/acme": {"username": "ci-bot", "password": SECRETS["git"]}}

# A laptop with everything switched on: ingress, webhook notifications, domains, private repos, admin password.
LOCAL_FULL = base_config(
    "existing",
    "local",
    domains=DOMAINS,
    argocd={"hostname": "argocd.acme.test", "notifications": {"webhookUrl": "https://hooks.acme.test/argocd"}},
    argocdAdminPassword=SECRETS["admin"],
    notificationsToken=SECRETS["token"],
    gitCredentials=GIT_CREDENTIALS,
)
# A hub (on an existing cluster, so no cloud mock is involved) with SSO groups and Slack notifications.
MGMT_FULL = base_config(
    "existing",
    "mgmt",
    domains=DOMAINS,
    argocd={
        "hostname": "argocd.acme.test",
        "sso": {
            "issuer": "https://login.acme.test",
            "clientId": "argocd",
            "adminGroups": ["platform-admins"],
            "readonlyGroups": ["engineering"],
        },
        "notifications": {"slackChannel": "platform-alerts"},
    },
    argocdOidcClientSecret=SECRETS["oidc"],
    argocdAdminPassword=SECRETS["admin"],  # set, but admin is off on mgmt: it must not be used
    notificationsToken=SECRETS["token"],
    gitCredentials=GIT_CREDENTIALS,
)
FULL_CONFIGS = {"local-full": LOCAL_FULL, "mgmt-full": MGMT_FULL}

RunConfig = Callable[..., Plan]


def named(plan: Plan, type_token: str, name: str) -> RecordedResource:
    found = [r for r in plan.by_type(type_token) if r.name == name]
    assert len(found) == 1, (
        f"expected one {type_token} named {name}, found {[r.name for r in plan.by_type(type_token)]}"
    )
    return found[0]


def argocd_applications(plan: Plan) -> list[RecordedResource]:
    return [r for r in plan.by_type(APPLICATION) if plan.name_of(r.parent_urn) == "argocd"]


def depends_on(plan: Plan, resource: RecordedResource) -> set[str | None]:
    return {plan.name_of(urn) for urn in resource.dependency_urns}


# ---------------------------------------------------------------------------------------------------------
# Where Argo CD is seeded
# ---------------------------------------------------------------------------------------------------------


def test_hub_stacks_seed_argocd_and_workload_stacks_do_not(shipped_plans: dict[str, Plan]) -> None:
    for stack in ("local", "mgmt"):
        assert [r.name for r in shipped_plans[stack].by_type(RELEASE) if r.name == "argocd"] == ["argocd"], stack
        outputs = shipped_plans[stack].outputs
        assert outputs["argocdUrl"].startswith("https://")
        # The admin credential is never a stack output (HARDENING #18).
        assert not [key for key in outputs if "admin" in key.lower() or "password" in key.lower()]
    for stack in ("dev", "staging", "prod"):
        plan = shipped_plans[stack]
        assert plan.by_type(RELEASE) == [] and plan.by_type("platform:argocd:ArgoCd") == [], stack


def test_the_hub_is_reached_at_its_host_name_and_a_laptop_through_a_port_forward(
    shipped_plans: dict[str, Plan],
) -> None:
    # argocd-cm `url` (SSO callbacks) and notifications' argocdUrl both default to https://<global.domain> in the
    # chart (argo-cd 10.1.1 templates/_helpers.tpl argo-cd.config.cm.presets, argocd-notifications-cm.yaml).
    mgmt = shipped_plans["mgmt"]
    assert mgmt.outputs["argocdUrl"] == "https://argocd.example.com"
    values = argocd_release(mgmt).inputs["values"]
    assert values["global"]["domain"] == "argocd.example.com"
    assert values["server"]["ingress"]["hostname"] == "argocd.example.com"
    assert "url" not in values["configs"]["cm"] and "argocdUrl" not in values["notifications"], "one source: domain"
    local = shipped_plans["local"]
    assert local.outputs["argocdUrl"] == "https://localhost:8080"
    assert "ingress" not in argocd_release(local).inputs["values"]["server"]


def test_everything_runs_on_the_clusters_provider(shipped_plans: dict[str, Plan]) -> None:
    for stack in ("local", "mgmt"):
        plan = shipped_plans[stack]
        provider = one(plan, "pulumi:providers:kubernetes").urn
        seed = [r for r in plan.resources if plan.name_of(r.parent_urn) == "argocd" and r.custom]
        # The recorded reference is `<provider urn>::<provider id>`.
        assert seed and all((r.provider_urn or "").startswith(f"{provider}::") for r in seed), stack


def test_namespaces_carry_the_semantic_labels_and_outlive_the_program(shipped_plans: dict[str, Plan]) -> None:
    mgmt = shipped_plans["mgmt"]
    for name, service, level in (("argocd", "argocd", "restricted"), ("crossplane-system", "crossplane", "baseline")):
        # A patch: `pulumi destroy` keeps the namespace, and a plain Namespace would fail the next `up` with
        # AlreadyExists; server-side apply creates a missing one and takes over a kept one.
        assert [r.name for r in mgmt.by_type(NAMESPACE) if r.name == name] == []
        namespace = named(mgmt, NAMESPACE_PATCH, name)
        assert namespace.inputs["metadata"]["labels"] == {
            # The catalog's Pod Security level of the service, warnings and audit at restricted.
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "project": "platform",
            "service": service,
            "env": "mgmt",
            "backstage.io/component": f"platform-{service}",
            "backstage.io/kubernetes-id": f"platform-{service}",
            "app.kubernetes.io/managed-by": "pulumi",
        }
        assert namespace.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
        assert namespace.protect and namespace.retain_on_delete, name
    local = shipped_plans["local"]
    seeded = [
        r.name
        for r in local.by_type(NAMESPACE_PATCH)
        if (r.parent_urn or "").endswith("platform:argocd:ArgoCd::argocd")
    ]
    assert seeded == ["argocd"]
    assert named(local, NAMESPACE_PATCH, "argocd").inputs["metadata"]["labels"]["env"] == "local"
    assert not named(local, NAMESPACE_PATCH, "argocd").protect


def test_nothing_the_seed_creates_can_already_exist_on_a_kept_cluster(shipped_plans: dict[str, Plan]) -> None:
    """What `pulumi destroy` keeps (retainOnDelete) is still on the cluster at the next `up`: each such object must
    be a Patch resource (server-side apply upserts) or be the release, which is adopted by `argocd.adoptRelease`."""
    for stack in ("local", "mgmt"):
        plan = shipped_plans[stack]
        kept = [r for r in plan.resources if r.retain_on_delete and r.type.startswith("kubernetes:")]
        assert kept, stack
        plain = [(r.type, r.name) for r in kept if not r.type.endswith("Patch") and r.type != RELEASE]
        assert plain == [], f"{stack}: a kept object created plainly fails the next `up` with AlreadyExists"


# ---------------------------------------------------------------------------------------------------------
# The bootstrap release and the handover to the `argocd` Application
# ---------------------------------------------------------------------------------------------------------


def test_release_is_pinned_and_stops_tracking_after_install(shipped_plans: dict[str, Plan]) -> None:
    chart = load_catalog().services["argocd"].chart
    for stack, protected in (("local", False), ("mgmt", True)):
        release = argocd_release(shipped_plans[stack])
        inputs = release.inputs
        assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]) == (
            chart.name,
            chart.version,
            {"repo": chart.repository},
        )
        assert (inputs["name"], inputs["namespace"]) == ("argocd", "argocd")
        # No keyring or verification: a keyring read from the runner's home is a perpetual diff (HARDENING #9).
        assert not {"keyring", "verify", "devel"} & set(inputs)
        # Every input, not a list of them: any tracked input (a timeout, a provider default) that changed would
        # make the provider run `helm upgrade` with the install-time chart and values, downgrading Argo CD.
        assert release.ignore_changes == RELEASE_IGNORED_CHANGES == ["*"]
        assert release.import_id == "", "a first install creates the release"
        assert release.retain_on_delete, "removing the seed must never uninstall Argo CD"
        assert release.protect == protected


def test_a_release_kept_by_an_earlier_destroy_is_adopted_on_request(run_config: RunConfig) -> None:
    config = base_config("existing", "local", argocd={"adoptRelease": True})
    release = argocd_release(run_config(config))
    # Imported by its provider id (`<namespace>/<name>`); no input needs to match, as every input is ignored.
    assert release.import_id == "argocd/argocd"
    assert release.ignore_changes == ["*"] and release.retain_on_delete


def test_self_application_deploys_the_same_chart_version_and_values(shipped_plans: dict[str, Plan]) -> None:
    for stack in ("local", "mgmt"):
        plan = shipped_plans[stack]
        release = argocd_release(plan).inputs
        app = named(plan, APPLICATION, "argocd-self").inputs
        assert app["metadata"]["name"] == "argocd"
        chart_source, values_source = app["spec"]["sources"]
        assert chart_source["repoURL"] == release["repositoryOpts"]["repo"]
        assert chart_source["chart"] == release["chart"]
        assert chart_source["targetRevision"] == release["version"]
        helm = chart_source["helm"]
        assert helm["releaseName"] == release["name"], "another release name would render twin objects"
        assert helm["valuesObject"] == release["values"]
        assert helm["valueFiles"] == [
            "$values/k8s/platform/_base/argocd/values.yaml",
            f"$values/k8s/platform/_cloud/{'existing' if stack == 'local' else 'gcp'}/argocd/values.yaml",
            f"$values/k8s/platform/cluster-{stack}/argocd/values.yaml",
        ]
        assert helm["ignoreMissingValueFiles"] is False
        assert values_source == {
            # local reads the platform repository its in-cluster Git server serves.
            "repoURL": configured_repo_url("mgmt")
            if stack == "mgmt"
            else "http://forgejo-http.platform-local-gitserver.svc.cluster.local:3000/platform/platform-gitops.git",
            "targetRevision": "main",
            "ref": "values",
        }
        assert app["spec"]["project"] == "platform"
        assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}


def test_a_stack_version_override_reaches_release_and_application(run_config: RunConfig) -> None:
    plan = run_config(base_config("existing", "local", services={"argocd": {"version": "10.0.0"}}))
    assert argocd_release(plan).inputs["version"] == "10.0.0"
    assert named(plan, APPLICATION, "argocd-self").inputs["spec"]["sources"][0]["targetRevision"] == "10.0.0"


def test_root_application_syncs_the_apps_path_of_the_gitops_repo(run_config: RunConfig) -> None:
    gitops = {"repoUrl": "https://github.com/acme/gitops", "revision": "v1.2.0", "appsPath": "clusters/apps"}
    plan = run_config(base_config("existing", "local", gitops=gitops))
    spec = named(plan, APPLICATION, "root").inputs["spec"]
    assert spec["source"] == {
        "repoURL": "https://github.com/acme/gitops",
        "targetRevision": "v1.2.0",
        "path": "clusters/apps",
        "directory": {"recurse": True},
    }
    assert spec["project"] == "platform"
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}


def test_every_application_uses_the_one_sync_policy_and_no_cascading_finalizer(
    shipped_plans: dict[str, Plan],
) -> None:
    assert SYNC_POLICY == {
        "automated": {"prune": True, "selfHeal": True},
        "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
    }
    for stack in ("local", "mgmt"):
        apps = argocd_applications(shipped_plans[stack])
        assert len(apps) == 2
        for app in apps:
            assert app.inputs["spec"]["syncPolicy"] == SYNC_POLICY, app.name
            assert "finalizers" not in app.inputs["metadata"], app.name


def test_argo_objects_wait_for_the_install_and_the_install_for_its_namespace(shipped_plans: dict[str, Plan]) -> None:
    plan = shipped_plans["mgmt"]
    release = argocd_release(plan)
    assert {"argocd", "argocd-oidc", "argocd-notifications-secret"} <= depends_on(plan, release)
    for resource in plan.by_type(APP_PROJECT) + argocd_applications(plan):
        assert "argocd" in depends_on(plan, resource), resource.name
    for app in argocd_applications(plan):
        assert "platform" in depends_on(plan, app), "an Application before its project fails validation"


# ---------------------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("case", list(FULL_CONFIGS))
def test_no_secret_reaches_a_plan_file(case: str, run_config: RunConfig, tmp_path: Path) -> None:
    plan = run_config(FULL_CONFIGS[case])
    write_plan(plan, tmp_path)
    text = "\n".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    admin_hash = admin_password_hash(SECRETS["admin"], "cluster-local")
    for secret in [*SECRETS.values(), admin_hash]:
        for form in (secret, _b64(secret)):
            assert form not in text, f"a secret ({secret[:4]}...) reached the plan files"
    # What the seed hands Kubernetes is what the engine saw as secret, and none of it is written in plain.
    registered = [_b64(SECRETS["token"]), _b64(SECRETS["git"])]
    registered.append(_b64(SECRETS["oidc"]) if case == "mgmt-full" else _b64(admin_hash))
    for value in registered:
        assert value in plan.secret_values, "not registered as a Pulumi secret"
        assert value not in text


def test_secrets_are_registered_as_pulumi_secrets_and_referenced_by_name(run_config: RunConfig) -> None:
    plan = run_config(MGMT_FULL)
    oidc = named(plan, SECRET, "argocd-oidc").inputs
    assert oidc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd", "Argo CD ignores it otherwise"
    # A Secret's whole `data` is secret (the SDK wraps it): the plan keeps its keys, masks every value.
    assert oidc["data"] == {"clientSecret": SECRET_MASK}
    assert _b64(SECRETS["oidc"]) in plan.secret_values
    assert set(named(plan, SECRET, "argocd-notifications-secret").inputs["data"].values()) == {SECRET_MASK}
    assert _b64(SECRETS["token"]) in plan.secret_values
    values = argocd_release(plan).inputs["values"]
    assert "clientSecret: $argocd-oidc:clientSecret" in values["configs"]["cm"]["oidc.config"]
    assert values["notifications"]["secret"] == {"create": False}


def test_repository_credentials_are_credential_templates(run_config: RunConfig) -> None:
    plan = run_config(MGMT_FULL)
    creds = [r for r in plan.by_type(SECRET) if r.name.startswith("repo-creds-")]
    assert len(creds) == 1
    inputs = creds[0].inputs
    assert inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repo-creds"
    assert inputs["metadata"]["namespace"] == "argocd"
    assert inputs["data"] == dict.fromkeys(["password", "type", "url", "username"], SECRET_MASK)
    for plain in ("git", "https://github.com/acme", "ci-bot", SECRETS["git"]):
        assert _b64(plain) in plan.secret_values
    assert "last-applied" not in str(inputs), "server-side apply: no last-applied copy of the data (HARDENING #24)"


def test_public_repositories_need_no_credentials(shipped_plans: dict[str, Plan]) -> None:
    # (local reads the in-cluster Git server with credentials: tests/test_gitserver.py.)
    assert not [r for r in shipped_plans["mgmt"].by_type(SECRET) if r.name.startswith("repo-creds-")]


def test_admin_password_is_patched_into_argocd_secret_only_where_admin_stays(run_config: RunConfig) -> None:
    local = run_config(LOCAL_FULL)
    patch = one(local, SECRET_PATCH)
    assert patch.inputs["metadata"]["name"] == "argocd-secret"
    assert patch.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
    assert set(patch.inputs["data"]) == {"admin.password", "admin.passwordMtime"}
    assert patch.inputs["data"]["admin.password"] == SECRET_MASK
    assert "argocd" in depends_on(local, patch), "argocd-secret exists only once the chart is installed"
    assert _b64(admin_password_hash(SECRETS["admin"], "cluster-local")) in local.secret_values
    # Admin disabled (mgmt): the password is not used; unset (the shipped local stack): Argo CD generates one.
    assert run_config(MGMT_FULL).by_type(SECRET_PATCH) == []
    assert run_config(base_config("existing", "local")).by_type(SECRET_PATCH) == []


def test_a_new_admin_password_ends_the_sessions_issued_before_it(run_config: RunConfig) -> None:
    plan = run_config(LOCAL_FULL)
    patch = one(plan, SECRET_PATCH)
    change = named(plan, SECRET, ADMIN_PASSWORD_CHANGE_SECRET)
    # admin.passwordMtime is the creation time of the change marker (the mocks stamp it like the API server).
    assert "argocd-admin-password-change" in depends_on(plan, patch)
    assert _b64(CREATION_TIMESTAMP) in plan.secret_values, "the patch's data, mtime included, is secret"
    # Replaced, and so stamped anew, exactly when the hash changes; same password, same digest: no new time.
    assert change.replace_on_changes == ["data"] and change.delete_before_replace
    digest = hashlib.sha256(admin_password_hash(SECRETS["admin"], "cluster-local").encode()).hexdigest()
    assert _b64(digest) in plan.secret_values
    again = run_config(LOCAL_FULL)
    assert _b64(digest) in again.secret_values
    other = run_config({**LOCAL_FULL, "argocdAdminPassword": "an0ther-Passw0rd"})
    assert _b64(digest) not in other.secret_values
    # Nothing when the admin is off or Argo CD keeps its generated password.
    assert not [r for r in run_config(MGMT_FULL).by_type(SECRET) if r.name == ADMIN_PASSWORD_CHANGE_SECRET]


def test_an_admin_password_hash_is_used_as_given(run_config: RunConfig) -> None:
    given = admin_password_hash("some-password", "elsewhere")
    plan = run_config(base_config("existing", "local", argocdAdminPassword=given))
    assert _b64(given) in plan.secret_values


def _values_of(plan: Plan) -> dict[str, Any]:
    return argocd_release(plan).inputs["values"]


def test_stack_config_reaches_the_release_values(run_config: RunConfig) -> None:
    values = _values_of(run_config(LOCAL_FULL))
    assert values["server"]["ingress"]["hostname"] == "argocd.acme.test"
    assert values["configs"]["params"]["server.insecure"] == "true"
