"""The dependency graph a real `pulumi up` walks, built from a recorded plan, and what it costs in time.

Edges: a resource waits for everything the Python SDK awaits before it sends the registration
(pulumi/runtime/resource.py `prepare_resource`): its explicit and implicit dependencies (the URNs of
`dependsOn` and of the Outputs in its inputs, which resolve once those resources are created), its parent's URN,
and its provider's URN and id. Parent edges count: a component's URN resolves only after its own `dependsOn`
are done, so its children inherit that wait; the component itself costs no time (weight 0).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["DependencyGraph", "Node", "Path", "RecordedLike", "is_operation", "short_type"]


class RecordedLike(Protocol):
    """The fields of tools.plan.runner.RecordedResource the graph reads."""

    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def custom(self) -> bool: ...
    @property
    def parent_urn(self) -> str | None: ...
    @property
    def provider_urn(self) -> str | None: ...
    @property
    def dependency_urns(self) -> list[str]: ...


@dataclass(frozen=True)
class Node:
    urn: str
    type: str
    name: str
    custom: bool
    order: int
    """Registration order: the engine starts ready steps in about this order."""


@dataclass(frozen=True)
class Path:
    seconds: float
    nodes: tuple[Node, ...]


def is_operation(node: Node) -> bool:
    """A create the engine asks a provider for: a custom resource that is not a provider."""
    return node.custom and not node.type.startswith("pulumi:providers:")


def short_type(type_token: str) -> str:
    """`gcp:container/nodePool:NodePool` -> `NodePool`."""
    return type_token.rsplit(":", 1)[-1]


Weight = Callable[[Node], float]


class DependencyGraph:
    def __init__(self, nodes: Sequence[Node], predecessors: dict[str, frozenset[str]]) -> None:
        self.nodes = {n.urn: n for n in nodes}
        self.predecessors = predecessors
        self.successors: dict[str, list[str]] = {urn: [] for urn in self.nodes}
        for urn, before in predecessors.items():
            for p in before:
                self.successors[p].append(urn)
        self.order = self._topological()

    @classmethod
    def of(cls, resources: Iterable[RecordedLike]) -> DependencyGraph:
        recorded = list(resources)
        known = {r.urn for r in recorded}
        nodes = [Node(r.urn, r.type, r.name, r.custom, i) for i, r in enumerate(recorded)]
        predecessors = {}
        for r in recorded:
            # The stack and default providers are not recorded: they are ready before the first resource.
            waits = {*r.dependency_urns, r.parent_urn, r.provider_urn}
            predecessors[r.urn] = frozenset(u for u in waits if u in known and u != r.urn)
        return cls(nodes, predecessors)

    def _topological(self) -> list[str]:
        pending = {urn: len(p) for urn, p in self.predecessors.items()}
        ready = [(self.nodes[u].order, u) for u, count in pending.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, urn = heapq.heappop(ready)
            order.append(urn)
            for s in self.successors[urn]:
                pending[s] -= 1
                if pending[s] == 0:
                    heapq.heappush(ready, (self.nodes[s].order, s))
        if len(order) != len(self.nodes):
            raise ValueError(f"dependency cycle among {sorted(set(self.nodes) - set(order))}")
        return order

    def longest_path(self, weight: Weight) -> Path:
        """The heaviest chain: with unbounded parallelism, the time to create everything."""
        finish: dict[str, float] = {}
        via: dict[str, str | None] = {}
        for urn in self.order:
            before = max(self.predecessors[urn], key=lambda p: (finish[p], -self.nodes[p].order), default=None)
            finish[urn] = (finish[before] if before else 0.0) + weight(self.nodes[urn])
            via[urn] = before
        if not finish:
            return Path(0.0, ())
        end: str | None = max(finish, key=lambda u: (finish[u], -self.nodes[u].order))
        chain: list[Node] = []
        while end is not None:
            chain.append(self.nodes[end])
            end = via[end]
        return Path(max(finish.values()), tuple(reversed(chain)))

    def serial(self, weight: Weight) -> float:
        """Every create one after the other (`pulumi up --parallel 1`)."""
        return sum(weight(n) for n in self.nodes.values())

    def schedule(self, weight: Weight, parallel: int | None) -> float:
        """Wall time with at most `parallel` creates in flight (None: unbounded), starting ready resources in
        registration order as the engine does. Weightless nodes (components, providers) take no slot."""
        if parallel is not None and parallel < 1:
            raise ValueError("parallel must be at least 1")
        pending = {urn: len(p) for urn, p in self.predecessors.items()}
        ready: list[tuple[int, str]] = []
        running: list[tuple[float, int, str]] = []
        now = 0.0

        def complete(urn: str) -> None:
            for s in self.successors[urn]:
                pending[s] -= 1
                if pending[s] == 0:
                    release(s)

        def release(urn: str) -> None:
            if weight(self.nodes[urn]) == 0:
                complete(urn)
            else:
                heapq.heappush(ready, (self.nodes[urn].order, urn))

        for urn in [u for u, count in pending.items() if count == 0]:
            release(urn)
        while ready or running:
            while ready and (parallel is None or len(running) < parallel):
                _, urn = heapq.heappop(ready)
                heapq.heappush(running, (now + weight(self.nodes[urn]), self.nodes[urn].order, urn))
            now, _, urn = heapq.heappop(running)
            complete(urn)
            while running and running[0][0] == now:
                complete(heapq.heappop(running)[2])
        return now
