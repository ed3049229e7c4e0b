"""The argo-cd chart's values, built from the stack config by one pure function.

The same dict goes into the bootstrap Helm release and into the self-managing `argocd` Application, so it must
be plain data and must never hold a secret: secrets live in Secrets this program creates and the values only
reference them (`$<secret>:<key>` in argocd-cm, `$<key>` in argocd-notifications-cm).

Every key exists in the chart's values.yaml (argo-cd 10.1.1), except inside the free-form maps `configs.cm`,
`configs.params`, `configs.rbac`, the notifications maps and the redis-ha subchart's keys; tests walk the dict
against the real file. Security contexts are not set here: the chart's defaults already run every Argo CD
container as non-root with a read-only root file system, no privilege escalation and all capabilities dropped,
and a test holds the merged values to that.
"""

from __future__ import annotations

from typing import Any

import yaml

from components.argocd.spoke_access import spoke_access_values
from components.config.model import NotificationSettings, SsoSettings, StackConfig
from components.naming import APPLICATION_CLUSTER_LABEL

__all__ = [
    "ARGOCD_IMAGE_TAG",
    "INGRESS_CLASS",
    "LOCAL_DOMAIN",
    "NETWORK_POLICY",
    "NOTIFICATIONS_SECRET_NAME",
    "NOTIFICATION_TRIGGERS",
    "OIDC_SECRET_KEY",
    "OIDC_SECRET_NAME",
    "TLS_CLUSTER_ISSUER",
    "WEBHOOK_NAME",
    "argocd_url",
    "argocd_values",
    "notification_token_key",
]

OIDC_SECRET_NAME = "argocd-oidc"
"""Secret with the OIDC client secret; labelled `app.kubernetes.io/part-of: argocd` so argocd-cm may reference
it as `$argocd-oidc:clientSecret` (docs/operator-manual/user-management/index.md, "Sensitive Data")."""
OIDC_SECRET_KEY = "clientSecret"
NOTIFICATIONS_SECRET_NAME = "argocd-notifications-secret"
"""The chart's default name, which the notifications controller reads; this program creates it, not the chart."""
WEBHOOK_NAME = "platform"
INGRESS_CLASS = "kong"
"""The platform's ingress controller (catalog service `kong`)."""
TLS_CLUSTER_ISSUER = "platform-tls"
"""cert-manager ClusterIssuer the Argo CD ingress asks for; the GitOps repo's cert-manager layer provides it."""
LOCAL_DOMAIN = "localhost:8080"
"""Argo CD's URL without an ingress: `kubectl port-forward -n argocd svc/argocd-server 8080:443`."""

ARGOCD_IMAGE_TAG = "v3.4.7"
"""The Argo CD release every component runs; chart 10.1.1 ships v3.4.4. v3.4.6 and v3.4.7 fix the ApplicationSet
progressive-sync loop and reverse deletion (argo-cd #29000, #29141: backports of #27577 and #29042); v3.4.7 is
the newest 3.4 patch, and its CRDs (manifests/crds) are byte-identical to v3.4.4's, which the chart installs.
v3.5.1 has the same fixes but newer CRDs than any argo-cd chart release ships (docs/ordering.md)."""

STUCK_WAVE_MINUTES = 30
"""A sync still running after this long is reported: for a cluster's parent Application it is a wave waiting on
a child that does not become Healthy (a parent's sync never times out: controller.sync.timeout.seconds is 0)."""

NOTIFICATION_TRIGGERS: dict[str, tuple[str, str, str]] = {
    "on-sync-failed": (
        "Application syncing has failed",
        "app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
        "Application {{.app.metadata.name}} failed to sync: {{.app.status.operationState.message}}",
    ),
    "on-health-degraded": (
        "Application has degraded",
        "app.status.health.status == 'Degraded'",
        "Application {{.app.metadata.name}} is Degraded.",
    ),
    "on-sync-succeeded": (
        "Application syncing has succeeded",
        "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']",
        "Application {{.app.metadata.name}} synced revision {{.app.status.sync.revision}}.",
    ),
    "on-sync-stuck": (
        f"Application sync has been running for {STUCK_WAVE_MINUTES} minutes",
        "app.status.operationState != nil and app.status.operationState.phase in ['Running'] and "
        f"time.Parse(app.status.operationState.startedAt).Add({STUCK_WAVE_MINUTES} * time.Minute).Before(time.Now())",
        # While a child is Progressing or Missing, a parent's message names it: "waiting for healthy state of
        # argoproj.io/Application/<service>-<suffix>" (gitops-engine/pkg/sync/sync_context.go:470, v3.4.7); while
        # one is Degraded the parent retries ("... Retrying attempt #N") and the child's on-health-degraded names it.
        "Application {{.app.metadata.name}} on cluster "
        f'{{{{index .app.metadata.labels "{APPLICATION_CLUSTER_LABEL}"}}}} has been syncing'
        f" for over {STUCK_WAVE_MINUTES} minutes: {{{{.app.status.operationState.message}}}}",
    ),
}
"""Trigger -> (description, condition, message). The first three are Argo CD's notifications catalog's
(notifications_catalog/install.yaml, v3.4.7); `on-sync-stuck` uses the catalog's time functions
(docs/operator-manual/notifications/functions.md) on `on-sync-running`'s condition."""
_ONCE_PER = {"on-sync-stuck": "app.status.operationState?.startedAt"}
"""One message per sync operation for a stuck sync; one per synced revision for the others (the catalog's)."""
_APP_LINK = "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}"

# Re-enables the health of child Applications, removed from Argo CD in 1.8, so an app of apps waits for its
# children (docs/operator-manual/health.md, "Argo CD App"; the Lua is the documented one).
APPLICATION_HEALTH_LUA = """\
hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""

# (cpu request, memory request, memory limit). No CPU limits: throttling a controller slows every sync, while a
# memory limit keeps a runaway repo server (a huge chart render) from starving the node.
_Sizes = dict[str, tuple[str, str, str]]
_SINGLE: _Sizes = {
    "controller": ("250m", "512Mi", "1Gi"),
    "repoServer": ("100m", "256Mi", "1Gi"),
    "server": ("50m", "128Mi", "256Mi"),
    "applicationSet": ("50m", "128Mi", "256Mi"),
    "notifications": ("20m", "64Mi", "128Mi"),
    "redis": ("50m", "64Mi", "256Mi"),
    "redisSecretInit": ("10m", "32Mi", "64Mi"),
}
_HA: _Sizes = {
    "controller": ("500m", "1Gi", "2Gi"),
    "repoServer": ("250m", "512Mi", "2Gi"),
    "server": ("100m", "256Mi", "512Mi"),
    "applicationSet": ("100m", "128Mi", "512Mi"),
    "notifications": ("50m", "64Mi", "256Mi"),
    "redisSecretInit": ("10m", "32Mi", "64Mi"),
}
# Containers of the redis-ha subchart (DandyDeveloper/charts redis-ha 4.38.0, the argo-cd 10.1.1 dependency):
# redis, sentinel, split-brain-fix and config-init in the StatefulSet, haproxy and its config-init.
_REDIS_HA: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("redis",): ("100m", "128Mi", "512Mi"),
    ("sentinel",): ("20m", "32Mi", "64Mi"),
    ("splitBrainDetection",): ("10m", "32Mi", "64Mi"),
    ("init",): ("10m", "32Mi", "64Mi"),
    ("haproxy",): ("50m", "64Mi", "128Mi"),
    ("haproxy", "init"): ("10m", "32Mi", "64Mi"),
}
HA_REPLICAS = 2
"""Replicas of the controller, repo server, API server and ApplicationSet controller when `argocd.ha` is on."""


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks and no line folding, so the rendered config reads like Argo CD's docs."""


_BlockDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def _yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, width=1_000_000)


def _resources(sizes: tuple[str, str, str]) -> dict[str, Any]:
    cpu, memory, memory_limit = sizes
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


def argocd_url(config: StackConfig) -> str:
    """The URL users and notifications reach Argo CD at: the ingress host, else the port-forward address."""
    return f"https://{config.argocd.hostname or LOCAL_DOMAIN}"


def notification_token_key(settings: NotificationSettings) -> str:
    """Key of the token in argocd-notifications-secret, referenced as `$<key>` by the notifier."""
    return "slack-token" if settings.slack_channel else "webhook-token"


def _csv_subject(group: str, key: str) -> str:
    # policy.csv is CSV: a comma or a line break in a group name would split it into another rule.
    if any(c in group for c in ',"\n\r') or group != group.strip() or not group:
        raise ValueError(f"{key}: group '{group}' cannot be used in Argo CD's policy.csv (comma, quote or line break)")
    return group


def _rbac(sso: SsoSettings | None) -> dict[str, Any]:
    lines: list[str] = []
    if sso is not None:
        lines += [f"g, {_csv_subject(g, 'argocd.sso.adminGroups')}, role:admin" for g in sso.admin_groups]
        lines += [f"g, {_csv_subject(g, 'argocd.sso.readonlyGroups')}, role:readonly" for g in sso.readonly_groups]
    return {
        # Every authenticated user gets at least policy.default and a deny rule cannot take it back
        # (docs/operator-manual/rbac.md): nothing by default, rights only through the groups below.
        "policy.default": "",
        "policy.csv": "".join(f"{line}\n" for line in lines),
        "scopes": "[groups]",
    }


def _oidc_config(sso: SsoSettings) -> str:
    return _yaml(
        {
            "name": sso.name,
            "issuer": sso.issuer,
            "clientID": sso.client_id,
            # A reference, resolved by Argo CD from the labelled Secret; the value never enters the values.
            "clientSecret": f"${OIDC_SECRET_NAME}:{OIDC_SECRET_KEY}",
        }
    )


def _webhook_body(trigger: str, condition: str) -> str:
    # The webhook body is a text/template with Sprig's functions (notifications-engine pkg/services/webhook.go and
    # pkg/templates/service.go, sprig.TxtFuncMap; docs/operator-manual/notifications/templates.md, v3.4.7).
    # `toJson` quotes free text (an operation message holds quotes and newlines), so the body stays valid JSON; a
    # missing `cluster` label prints null. Names are DNS labels, safe as they are.
    fields = [
        '"application": "{{.app.metadata.name}}"',
        '"project": "{{.app.spec.project}}"',
        f'"cluster": {{{{index .app.metadata.labels "{APPLICATION_CLUSTER_LABEL}" | toJson}}}}',
        f'"event": "{trigger}"',
    ]
    if condition.startswith("app.status.operationState != nil"):
        # Only where the trigger's condition guarantees there is an operation to report.
        fields.append('"message": {{.app.status.operationState.message | toJson}}')
    fields.append(f'"url": "{_APP_LINK}"')
    return "{" + ", ".join(fields) + "}"


def _notifications(settings: NotificationSettings | None, sizes: _Sizes) -> dict[str, Any]:
    # This program owns argocd-notifications-secret in every stack, so the chart never renders (and a later sync
    # never prunes) it, and the token never enters the values.
    values: dict[str, Any] = {"resources": _resources(sizes["notifications"]), "secret": {"create": False}}
    if settings is None:
        return values
    token = f"${notification_token_key(settings)}"
    if settings.slack_channel:
        notifiers = {"service.slack": _yaml({"token": token})}
        recipient = f"slack:{settings.slack_channel}"
    else:
        webhook = {"url": settings.webhook_url, "headers": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        notifiers = {f"service.webhook.{WEBHOOK_NAME}": _yaml(webhook)}
        recipient = WEBHOOK_NAME  # a webhook subscribes by its name (notifications/subscriptions.md)
    templates: dict[str, str] = {}
    triggers: dict[str, str] = {}
    for trigger, (description, condition, message) in NOTIFICATION_TRIGGERS.items():
        template_name = f"app-{trigger.removeprefix('on-')}"
        template: dict[str, Any] = {"message": f"{message}\n{_APP_LINK}\n"}
        if settings.webhook_url:
            template["webhook"] = {WEBHOOK_NAME: {"method": "POST", "body": _webhook_body(trigger, condition)}}
        templates[f"template.{template_name}"] = _yaml(template)
        # oncePer: one message per synced revision (or operation), not one per reconciliation.
        rule = {
            "description": description,
            "oncePer": _ONCE_PER.get(trigger, "app.status.operationState?.syncResult?.revision"),
            "send": [template_name],
            "when": condition,
        }
        triggers[f"trigger.{trigger}"] = _yaml([rule])
    return {
        **values,
        "notifiers": notifiers,
        "templates": templates,
        "triggers": triggers,
        # Default subscriptions for the platform's own Applications, selected by their semantic `project` label.
        "subscriptions": [
            {"recipients": [recipient], "triggers": list(NOTIFICATION_TRIGGERS), "selector": "project=platform"}
        ],
    }


def _component(replicas: int, sizes: tuple[str, str, str], ha: bool, has_hpa: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {"replicas": replicas, "resources": _resources(sizes)}
    if has_hpa:
        # The chart offers an HPA here; fixed replicas instead: a predictable footprint, the count stays in Git.
        values["autoscaling"] = {"enabled": False}
    if ha:
        # Only with 2+ replicas: a PDB of minAvailable 1 over one pod would block every node drain.
        values["pdb"] = {"enabled": True, "minAvailable": 1}
    return values


# Every Argo CD pod is covered: the chart's per-component policies (server, repo server, controller, redis,
# notifications; argo-cd 10.1.1 templates/*/networkpolicy.yaml) plus a namespace-wide default deny of ingress
# (templates/networkpolicy-default-deny.yaml), which is all the ApplicationSet controller gets (the chart renders its
# policy only with metrics or a webhook ingress, neither of which is on) and what redis-ha's pods start from.
NETWORK_POLICY = {"create": True, "defaultDenyIngress": True}
_CLIENTS_OF_REDIS = ("argocd-server", "argocd-repo-server", "argocd-application-controller")


def _redis_ha_network_policies() -> tuple[dict[str, Any], dict[str, Any]]:
    """redis-ha's own policies (subchart 4.38.0 templates/redis-ha-network-policy.yaml and
    redis-haproxy-network-policy.yaml): redis and sentinel talk only among themselves and to HAProxy, HAProxy only
    to them and takes connections only from the Argo CD components that use Redis. Both restrict egress too, so DNS
    is allowed out of the redis pods (HAProxy's policy allows it itself)."""
    dns = {"selectors": [{"namespaceSelector": {}}], "ports": [{"port": 53, "protocol": p} for p in ("UDP", "TCP")]}
    clients = [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}} for name in _CLIENTS_OF_REDIS]
    return {"enabled": True, "egressRules": [dns]}, {"enabled": True, "ingressRules": [{"selectors": clients}]}


def argocd_values(config: StackConfig) -> dict[str, Any]:
    """The argo-cd chart values of this stack's Argo CD (pure: the same config gives the same dict)."""
    argocd = config.argocd
    ha = argocd.ha
    sizes = _HA if ha else _SINGLE
    replicas = HA_REPLICAS if ha else 1
    exposed = argocd.hostname is not None

    cm: dict[str, Any] = {
        # A string: argocd-cm is a ConfigMap, and the docs spell it "false".
        "admin.enabled": "true" if argocd.admin_enabled else "false",
        "resource.customizations.health.argoproj.io_Application": APPLICATION_HEALTH_LUA,
    }
    if argocd.sso is not None:
        cm["oidc.config"] = _oidc_config(argocd.sso)

    server = _component(replicas, sizes["server"], ha, has_hpa=True)
    # Internal by default: reached through `kubectl port-forward`, never a LoadBalancer.
    server["service"] = {"type": "ClusterIP"}
    if exposed:
        server["ingress"] = {
            "enabled": True,
            "ingressClassName": INGRESS_CLASS,
            "hostname": argocd.hostname,
            # TLS terminates at the ingress with a cert-manager certificate (secret argocd-server-tls).
            "tls": True,
            "annotations": {"cert-manager.io/cluster-issuer": TLS_CLUSTER_ISSUER},
        }

    values: dict[str, Any] = {
        "global": {
            "domain": argocd.hostname or LOCAL_DOMAIN,
            "image": {"tag": ARGOCD_IMAGE_TAG},
            "networkPolicy": NETWORK_POLICY,
        },
        "configs": {
            "cm": cm,
            "params": {
                # Plain HTTP inside the cluster only behind the TLS ingress (HARDENING #25); else the server's TLS.
                "server.insecure": "true" if exposed else "false",
            },
            "rbac": _rbac(argocd.sso),
        },
        # SSO goes straight to the OIDC provider; Dex would be one more public-facing component.
        "dex": {"enabled": False},
        # With 2 replicas (HA) the controller shards: the chart sets ARGOCD_CONTROLLER_REPLICAS, and clusters are
        # spread over the shards by the default (legacy) hash of the cluster id, unless `controllerShards` is set.
        "controller": _component(replicas, sizes["controller"], ha),
        "server": server,
        "repoServer": _component(replicas, sizes["repoServer"], ha, has_hpa=True),
        # 2 replicas elect a leader (the chart turns leader election on above 1 replica).
        "applicationSet": _component(replicas, sizes["applicationSet"], ha),
        "notifications": _notifications(argocd.notifications, sizes),
        "redisSecretInit": {"resources": _resources(sizes["redisSecretInit"])},
        "redis-ha": {"enabled": ha},
    }
    if argocd.controller_shards > 1:
        # Argo CD's own sharding: the chart sets ARGOCD_CONTROLLER_REPLICAS from `controller.replicas`, and
        # consistent hashing with bounded loads moves few clusters when a shard or cluster comes or goes
        # (docs/operator-manual/high_availability.md, v3.4.7). The chart's controller StatefulSet reads
        # `controller.sharding.algorithm` from argocd-cmd-params-cm (argo-cd 10.1.1 statefulset.yaml).
        values["controller"]["replicas"] = argocd.controller_shards
        values["configs"]["params"]["controller.sharding.algorithm"] = "consistent-hashing"
    if ha:
        # redis-ha replaces the single redis: 3 redis + sentinel pods and 3 HAProxy pods (the chart defaults),
        # each forced onto its own node.
        redis_ha = values["redis-ha"]
        for path, container_sizes in _REDIS_HA.items():
            node = redis_ha
            for part in path:
                node = node.setdefault(part, {})
            node["resources"] = _resources(container_sizes)
        redis_policy, haproxy_policy = _redis_ha_network_policies()
        redis_ha["networkPolicy"] = redis_policy
        redis_ha["haproxy"]["networkPolicy"] = haproxy_policy
    else:
        values["redis"] = {"resources": _resources(_SINGLE["redis"])}
    # Hub and spoke (added by the registration work): the hub's controller and server carry the tokens and files
    # spokes trust; see spoke_access.py.
    if config.role == "hub":
        for component, extra in spoke_access_values().items():
            values[component].update(extra)
    return values
