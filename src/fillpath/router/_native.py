"""The router's hot modules compiled with mypyc, used only when they were built from exactly the sources on disk.

The pure-Python modules are the source of truth and the fallback. ``scripts/build_native.py`` (run by
``scripts/setup.sh``) compiles :data:`COMPILED` into ``build/mypyc/``, away from the sources (an extension module
next to its ``.py`` would shadow it on every import, edited or not), and writes a manifest with the SHA-256 of every
source it read. At import, :func:`install` puts a finder in front of the import system for those modules only if the
manifest matches the files now on disk, this interpreter's extension suffix and every module still unimported; else
nothing is compiled in this process (all or none: compiled modules call each other directly, so a mix would run stale
code), with one warning when the build is stale. ``FILLPATH_PURE=1`` forces the pure modules.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

COMPILED = (
    "fillpath.router.branch",
    "fillpath.router.build",
    "fillpath.router.certificate",
    "fillpath.router.crossover",
    "fillpath.router.curves",
    "fillpath.router.cycles",
    "fillpath.router.graph",
    "fillpath.router.network",
    "fillpath.router.newton",
    "fillpath.router.optimize",
    "fillpath.router.reach",
    "fillpath.router.select",
    "fillpath.router.split",
    "fillpath.router.start",
    "fillpath.router.venues.stableswap_curve",
)
"""The modules mypyc compiles: the solve, its arc evaluators, the plan build, the path search, the certificate and the
venue choice around them. ``route`` stays interpreted (thin; ``benchmarks/bench_router.py`` patches its
``search_paths``); a test that patches a compiled module's global runs only with ``FILLPATH_PURE=1``."""

SRC = Path(__file__).resolve().parents[2]
"""The directory holding the ``fillpath`` package (``src/`` in a checkout)."""
BUILD = SRC.parent / "build" / "mypyc"
MANIFEST = "manifest.json"


def source_hashes(files: Sequence[str], src: Path = SRC) -> dict[str, str]:
    """SHA-256 of each file (paths relative to ``src``); a missing file hashes to ``""``."""
    out = {}
    for rel in files:
        try:
            out[rel] = hashlib.sha256((src / rel).read_bytes()).hexdigest()
        except OSError:
            out[rel] = ""
    return out


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules (and mypyc's shared library) in the build directory, nothing else."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        where = self.files.get(fullname)
        if where is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(where))
        return importlib.util.spec_from_file_location(fullname, where, loader=loader)


def stale_reason(build: Path = BUILD, src: Path = SRC) -> str | None:
    """Why the build in ``build`` must not be used (``None``: it matches the sources on disk); ``""`` when there is
    no build at all (nothing to warn about)."""
    try:
        manifest = json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError):
        return ""
    if manifest.get("suffix") != importlib.machinery.EXTENSION_SUFFIXES[0]:
        return f"built for {manifest.get('suffix')}, this interpreter loads {importlib.machinery.EXTENSION_SUFFIXES[0]}"
    if tuple(manifest.get("modules", ())) != COMPILED:
        return "built for another list of modules"
    sources: dict[str, str] = manifest.get("sources", {})
    changed = [rel for rel, h in source_hashes(sorted(sources), src).items() if h != sources[rel]]
    if changed:
        return f"{len(changed)} source(s) changed since the build ({', '.join(changed[:3])})"
    missing = [rel for rel in manifest.get("files", {}).values() if not (build / rel).is_file()]
    if missing:
        return f"missing {missing[0]}"
    return None


def install(build: Path = BUILD, src: Path = SRC) -> bool:
    """Use the compiled modules if they match the sources (see the module docstring); whether they are used."""
    if os.environ.get("FILLPATH_PURE", "") not in ("", "0"):
        return False
    reason = stale_reason(build, src)
    if reason is None and any(m in sys.modules for m in COMPILED):
        reason = "a router module was imported before the compiled ones could be"
    if reason is not None:
        if reason:
            warnings.warn(
                f"fillpath: the compiled router modules are not used ({reason}); running the pure-Python ones "
                "(`bash scripts/setup.sh` rebuilds them)",
                RuntimeWarning,
                stacklevel=2,
            )
        return False
    manifest = json.loads((build / MANIFEST).read_text())
    files = {name: build / rel for name, rel in manifest["files"].items()}
    finder = _Finder(files)
    sys.meta_path.insert(0, finder)
    try:
        for name in manifest["files"]:
            if name not in COMPILED:  # mypyc's shared library: load it now, so a broken build falls back whole
                importlib.import_module(name)
    except ImportError as exc:
        sys.meta_path.remove(finder)
        warnings.warn(
            f"fillpath: the compiled router modules do not load ({exc}); running the pure-Python ones",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True


ACTIVE = install()
"""Whether this process runs the compiled router modules."""
