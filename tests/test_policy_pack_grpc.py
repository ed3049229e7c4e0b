"""The policy pack through the interface the Pulumi CLI uses: the pack is started as the CLI starts a Python pack
(`python -m pulumi.policy ENGINE DIR` from the pack's directory, with `PULUMI_STACK` and `PULUMI_CONFIG` set as
pulumi/pulumi sdk/go/common/resource/plugin/analyzer_plugin.go `constructEnv` sets them, v3.272), and driven over its
gRPC Analyzer service with the protobufs the `pulumi` package ships: `ConfigureStack`, then `Analyze` per resource in
the plan's registration order, then `AnalyzeStack`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.conftest import base_config
from tests.test_policy_pack import GOOD_EKS, RELEASE, with_
from tools.plan.runner import Plan, RecordedResource

POLICY_DIR = Path(__file__).resolve().parents[1] / "policy"
EKS = "aws:eks/cluster:Cluster"
MANDATORY = analyzer_pb2.EnforcementLevel.MANDATORY
ADVISORY = analyzer_pb2.EnforcementLevel.ADVISORY


@dataclass
class Pack:
    """A running pack: its process and an Analyzer client."""

    stack: str
    process: subprocess.Popen[str]
    stub: analyzer_pb2_grpc.AnalyzerStub

    def urn(self, type_: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::platform::{type_}::{name}"

    def analyze(self, type_: str, props: Any, name: str = "r", protect: bool = False) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                urn=self.urn(type_, name),
                type=type_,
                name=name,
                properties=_struct(props),
                options=analyzer_pb2.AnalyzerResourceOptions(protect=protect),
            )
        )


def _struct(props: Any) -> struct_pb2.Struct:
    # What the engine marshals is JSON-shaped; the recorded inputs may hold non-JSON leaves (bytes, enums).
    return json_format.ParseDict(json.loads(json.dumps(props or {}, default=str)), struct_pb2.Struct())


def start_pack(stack: str, env: str | None) -> Pack:
    """The pack as the CLI starts it for `stack` whose `platform:env` is `env` (None: no config at all)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    environ |= {"PULUMI_STACK": stack, "PULUMI_PROJECT": "platform", "PULUMI_DRY_RUN": "true"}
    config = {"platform:env": env, "aws:region": "eu-west-1"} if env else {}
    if config:
        environ["PULUMI_CONFIG"] = json.dumps(config)
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=POLICY_DIR,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise AssertionError(process.communicate()[1])
    stub = analyzer_pb2_grpc.AnalyzerStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    stub.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(stack=stack, project="platform", dry_run=True, config=config)
    )
    return Pack(stack, process, stub)


# (stack name, platform:env) pairs, one pack process each, started together to keep the suite fast.
SCENARIOS = [("prod", "local"), ("prod", "dev"), ("prod", None), ("mgmt", "mgmt"), ("dev", "dev"), ("local", None)]


@pytest.fixture(scope="module")
def packs() -> Iterator[dict[tuple[str, str | None], Pack]]:
    started: dict[tuple[str, str | None], Pack] = {}
    try:
        for stack, env in SCENARIOS:
            started[(stack, env)] = start_pack(stack, env)
        yield started
    finally:
        for pack in started.values():
            pack.process.kill()
            pack.process.communicate()


def levels(response: analyzer_pb2.AnalyzeResponse | analyzer_pb2.AnalyzeStackResponse) -> dict[str, int]:
    return {d.policyName: d.enforcementLevel for d in response.diagnostics}


OPEN_EKS = with_(GOOD_EKS, "vpcConfig.publicAccessCidrs", ["0.0.0.0/0"])


@pytest.mark.parametrize("env", ["local", "dev", None])
def test_a_prod_stack_is_mandatory_whatever_its_config_says(packs: dict[Any, Pack], env: str | None) -> None:
    """Item 1: `platform:env: local` (or dev) on the prod stack no longer switches the pack off (or to advisory)."""
    response = packs[("prod", env)].analyze(EKS, OPEN_EKS)
    assert levels(response) == {"eks-endpoint-access": MANDATORY}
    assert "eks-endpoint-access" not in {n.policy_name for n in response.not_applicable}


def test_dev_stays_advisory_and_local_exempt(packs: dict[Any, Pack]) -> None:
    assert levels(packs[("dev", "dev")].analyze(EKS, OPEN_EKS)) == {"eks-endpoint-access-advisory": ADVISORY}
    local = packs[("local", None)].analyze(EKS, OPEN_EKS)
    assert levels(local) == {}
    assert "eks-endpoint-access" in {n.policy_name for n in local.not_applicable}


def test_argocd_rules_are_mandatory_where_the_hub_runs(packs: dict[Any, Pack]) -> None:
    """Item 2: on mgmt, a LoadBalancer Argo CD server, a domain project reaching argocd and an unpinned Argo CD chart
    stop the deployment; the cluster rules stay advisory there."""
    mgmt = packs[("mgmt", "mgmt")]
    server = {"chart": "argo-cd", "values": {"server": {"service": {"type": "LoadBalancer"}}}}
    expected = {"argocd-server-not-public": MANDATORY, "chart-version-pinned": MANDATORY}
    assert levels(mgmt.analyze(RELEASE, server)) == expected
    project = {"metadata": {"name": "payments"}, "spec": {"destinations": [{"namespace": "argocd"}]}}
    response = mgmt.analyze("kubernetes:argoproj.io/v1alpha1:AppProject", project)
    assert levels(response) == {"argocd-domain-project-least-privilege": MANDATORY}
    assert levels(mgmt.analyze(EKS, OPEN_EKS)) == {"eks-endpoint-access-advisory": ADVISORY}


def _feed(pack: Pack, plan: Plan) -> tuple[list[str], list[str]]:
    """Every custom resource of `plan` through `Analyze` in registration order, then the whole stack through
    `AnalyzeStack`; the mandatory findings of each."""
    found: list[str] = []
    resources = [_as_analyzed(resource, pack.stack, plan.stack) for resource in plan.resources]
    for resource, analyzed in zip(plan.resources, resources, strict=True):
        if not resource.custom:
            continue  # the engine analyzes custom resources; components only reach the stack check
        request = analyzer_pb2.AnalyzeRequest(
            urn=analyzed.urn, type=analyzed.type, name=analyzed.name, properties=analyzed.properties
        )
        request.options.CopyFrom(analyzed.options)
        response = pack.stub.Analyze(request)
        found += [f"{d.policyName}: {resource.name}" for d in response.diagnostics if d.enforcementLevel == MANDATORY]
    stack = pack.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
    # A diagnostic's message is the policy's description, a newline, then what was reported.
    return found, [d.message.splitlines()[-1] for d in stack.diagnostics if d.enforcementLevel == MANDATORY]


def _as_analyzed(resource: RecordedResource, stack: str, planned_as: str) -> analyzer_pb2.AnalyzerResource:
    urn = resource.urn.replace(f"urn:pulumi:{planned_as}::", f"urn:pulumi:{stack}::", 1)
    return analyzer_pb2.AnalyzerResource(
        urn=urn,
        type=resource.type,
        name=resource.name,
        properties=_struct(resource.inputs),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect, parent=resource.parent_urn or ""),
        parent=resource.parent_urn or "",
        dependencies=resource.dependency_urns,
    )


def test_an_open_unprotected_prod_plan_configured_as_local_is_stopped(packs: dict[Any, Pack], run_config: Any) -> None:
    """The finding as reported: the prod stack's resources, fed in the engine's order to a pack whose stack config
    says `local`, with an EKS endpoint open to 0.0.0.0/0 and an unprotected cluster."""
    plan = run_config(base_config("aws", "prod"), stack="prod")
    cluster = next(r for r in plan.resources if r.type == EKS)
    cluster.inputs["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    cluster.protect = False
    found, stack_findings = _feed(packs[("prod", "local")], plan)
    assert found == [f"eks-endpoint-access: {cluster.name}"]
    assert stack_findings == [f"{EKS} {cluster.name} must have protect=True in prod"]
