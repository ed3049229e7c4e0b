"""Who may import whom, read from the source with `ast` (nothing is imported)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
COMPONENTS = PROJECT / "components"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")


def _imports(tree: ast.Module) -> set[str]:
    """Every module an import statement names, at any depth (imports inside functions count too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


LEAVES = (
    "components.naming",
    "components.catalog",
    "components.pem",
    "components.hub_contract",
    "components.cluster_secret",
    "components.pulumi_seams",
    "components.secret_data",
)
"""Modules any layer may import: names, the service catalog (data), the PEM reader, the hub-spoke contract, the
cluster-Secret contract, the private parts of the Pulumi SDK, and the base64 of Secret data."""


def _trees(folder: Path) -> dict[str, ast.Module]:
    return {_module(path): ast.parse(path.read_text(), str(path)) for path in sorted(folder.rglob("*.py"))}


def test_the_catalog_is_loaded_only_by_the_program() -> None:
    # One catalog per run, passed explicitly: no component falls back to loading its own.
    loaders = {
        module
        for module, tree in _trees(COMPONENTS).items()
        if module != "components.catalog"
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "load_catalog")
        or (isinstance(node, ast.alias) and node.name == "load_catalog")
    }
    assert not loaders, f"these modules load the catalog themselves instead of taking it as an argument: {loaders}"
    assert "load_catalog()" in (PROJECT / "__main__.py").read_text()


def test_the_argo_cd_seed_does_not_import_the_cluster_layer() -> None:
    leaks = {
        module: sorted(name for name in _imports(tree) if _within(name, "components.clusters"))
        for module, tree in _trees(COMPONENTS / "argocd").items()
    }
    assert not {m: names for m, names in leaks.items() if names}, leaks


def test_the_config_imports_only_the_leaves() -> None:
    # config/ parses a stack's values; a component package importing it back would make a cycle.
    leaks = {
        module: sorted(
            name
            for name in _imports(tree)
            if _within(name, "components")
            and not _within(name, "components.config")
            and not any(_within(name, leaf) for leaf in LEAVES)
        )
        for module, tree in _trees(COMPONENTS / "config").items()
    }
    assert not {m: names for m, names in leaks.items() if names}, leaks


def test_the_leaves_import_no_component() -> None:
    for leaf in LEAVES:
        path = PROJECT / Path(*leaf.split("."))
        trees = _trees(path) if path.is_dir() else {leaf: ast.parse(path.with_suffix(".py").read_text())}
        for module, tree in trees.items():
            others = {name for name in _imports(tree) if _within(name, "components") and not _within(name, leaf)}
            assert not others, f"{module} is a leaf but imports {sorted(others)}"


def test_a_cloud_config_module_imports_no_component_and_no_other_cloud() -> None:
    # A cloud's settings and rules change in its own module: config/clouds/<cloud>.py builds on the config leaves
    # (base.py, clouds/common.py) only; the registry (clouds/__init__.py) is what names every cloud.
    clouds = COMPONENTS / "config" / "clouds"
    trees = _trees(clouds)
    assert {"components.config.clouds.gcp", "components.config.clouds.existing"} <= set(trees)
    shared = {"components.config.base", "components.config.clouds.common", "components.config.model"}
    for module, tree in trees.items():
        names = {name for name in _imports(tree) if _within(name, "components")}
        outside = {name for name in names if not _within(name, "components.config")}
        assert not outside, f"{module} imports {sorted(outside)}"
        if module in {"components.config.clouds", "components.config.clouds.common"}:
            continue
        others = {name for name in names if not any(_within(name, ok) for ok in shared)}
        assert not others, f"{module} imports {sorted(others)}; a cloud's module uses the shared config leaves only"


def test_the_cluster_components_raise_no_config_error() -> None:
    # Every config mistake is a line of load_stack_config, before any resource exists.
    for module, tree in _trees(COMPONENTS / "clusters").items():
        names = {name for name in _imports(tree) if name.endswith("ConfigError")}
        assert not names, f"{module} imports {sorted(names)}"


def _component_imports(trees: dict[str, ast.Module], own: str) -> set[str]:
    """The components (by their name under `components.`) that the modules of `trees` import, their own aside."""
    found = set()
    for tree in trees.values():
        for name in _imports(tree):
            parts = name.split(".")
            if parts[0] == "components" and len(parts) > 1 and parts[1] != own:
                found.add(parts[1])
    return found


def test_the_architecture_page_lists_what_each_package_imports() -> None:
    rows = dict(
        re.findall(
            r"^\| `(__main__\.py|components/\w+/)` \| ([^|]+) \|$", (PROJECT / "docs/architecture.md").read_text(), re.M
        )
    )
    packages = [path for path in sorted(COMPONENTS.iterdir()) if (path / "__init__.py").is_file()]
    actual = {f"components/{path.name}/": _component_imports(_trees(path), path.name) for path in packages}
    actual = {row: imports for row, imports in actual.items() if row != "components/catalog/" or imports}
    actual["__main__.py"] = _component_imports({"__main__": ast.parse((PROJECT / "__main__.py").read_text())}, "")
    documented = {row: {name.strip() for name in imports.split(",")} for row, imports in rows.items()}
    assert documented == actual, "docs/architecture.md's import table is stale; rewrite it from this test's `actual`"
