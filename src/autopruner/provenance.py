"""What a result depends on besides its input files: the package source a rule runs and the config it reads.

Snakemake reruns a job when its ``params`` change. Each rule therefore receives, as params, the config subset it reads
(`config_subset`) and a digest of the package modules its script imports, followed transitively through ``autopruner``
imports (`source_digest`). Editing a config key or a module reruns exactly the rules that use it, and nothing else. The
import graph is read from the source with ``ast``, so nothing heavy is imported at parse time.
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

PACKAGE = "autopruner"
PACKAGE_ROOT = Path(__file__).resolve().parent


def module_file(module: str, root: Path = PACKAGE_ROOT) -> Path | None:
    """The source file of an ``autopruner`` module (``.py`` or a package's ``__init__.py``), None if none."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Every ``autopruner`` module a source file imports, at any depth of the file (lazy imports included).

    ``from autopruner.x import y`` counts ``autopruner.x`` and, when it is a module, ``autopruner.x.y``.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == PACKAGE:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_closure(modules: Iterable[str], root: Path = PACKAGE_ROOT) -> dict[str, Path]:
    """The given modules and every ``autopruner`` module they import, transitively, with their files.

    Parent packages of each module are included too (their ``__init__`` runs on import).
    """
    pending = list(modules)
    closure: dict[str, Path] = {}
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in closure:
                continue
            path = module_file(prefix, root)
            if path is None:
                if depth == len(parts) and name in modules:
                    raise ModuleNotFoundError(f"{name} is not a module of {root}")
                continue
            closure[prefix] = path
            pending.extend(imported_modules(path))
    return closure


@functools.cache
def _digest(modules: tuple[str, ...], root: Path) -> str:
    sha = hashlib.sha256()
    for name, path in sorted(module_closure(modules, root).items()):
        sha.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def source_digest(*modules: str, root: Path = PACKAGE_ROOT) -> str:
    """A short hash of the source of ``modules`` and everything they import from the package."""
    return _digest(tuple(sorted(modules)), root)


def config_subset(config: Mapping[str, Any], *keys: str, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The part of ``config`` named by dotted ``keys`` (``"evaluation"``, ``"autopruner.closed_threshold"``), without
    the dotted keys in ``exclude`` that lie inside it.

    The result keeps the nesting, so a function reading ``cfg["autopruner"]["closed_threshold"]`` works on it unchanged;
    a missing key raises KeyError naming the dotted key. ``exclude`` is for keys that choose which jobs exist rather
    than what a job computes (`JOB_LIST_KEYS`): a job for seed 1 names its seed in its wildcards, and must not rerun
    because seed 3 was added to ``training.seeds``.
    """
    subset: dict[str, Any] = {}
    for key in keys:
        node: Any = config
        parts = key.split(".")
        for depth, part in enumerate(parts):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"config key {'.'.join(parts[: depth + 1])!r} is missing")
            node = node[part]
        target = subset
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = copy.deepcopy(node)
    for key in exclude:
        _drop(subset, key.split("."))
    return subset


#: config keys that list the jobs to run (seeds, budgets, compared methods); every job reads its own seed, budget
#: and method from its wildcards, never these lists, so they stay out of the jobs' ``params.config``
JOB_LIST_KEYS = (
    "training.seeds", "autopruner.budgets", "methods.budgets", "methods.compare", "validation.training_seeds",
    "firmware.methods", "firmware.budgets",
)


def _drop(subset: dict[str, Any], parts: list[str]) -> None:
    """Remove the dotted key ``parts`` from ``subset`` where it is present."""
    node = subset.get(parts[0])
    if len(parts) == 1:
        subset.pop(parts[0], None)
    elif isinstance(node, dict):
        _drop(node, parts[1:])
