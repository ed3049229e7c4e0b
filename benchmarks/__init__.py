"""Benchmarks of the platform program: cost per stack, growth with the platform's size, time to a seeded platform.

`python -m benchmarks` (or `make bench`) runs the real program under the plan tool's mocks, with no cloud, and
writes docs/benchmarks/{stacks,sweep,targets}.csv and sweep.png. The pure parts (dependency graph, critical path,
schedule under Pulumi's parallelism, CSV writing) live in `graph` and `report` and are unit-tested.
"""
