"""Who may import whom, read from the source with `ast` (nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
COMPONENTS = PROJECT / "components"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")


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
