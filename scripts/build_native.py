"""Compile the router's hot modules with mypyc into build/mypyc/ (see src/fillpath/router/_native.py).

Idempotent: skipped when the manifest already matches the sources. Without a C compiler or mypyc it removes any old
build and leaves the pure-Python modules in use (exit 0). The sources are copied to a scratch directory and compiled
there, so no extension module ever lands next to a source it could shadow; the manifest records the hash of every
source the compiled modules were built from (the modules themselves and every fillpath module they import, through
the whole chain), each hashed before the copy and checked again after it.
Run: ``.venv/bin/python scripts/build_native.py [--force]``.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["FILLPATH_PURE"] = "1"  # this process must not load the build it replaces

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fillpath.router._native import BUILD, COMPILED, MANIFEST, SRC, source_hashes, stale_reason  # noqa: E402


def say(msg: str) -> None:
    print(f"\033[1m[native]\033[0m {msg}", file=sys.stderr)


def rel_of(module: str) -> str:
    return module.replace(".", "/") + ".py"


def closure(modules: tuple[str, ...]) -> list[str]:
    """The source files of ``modules`` and of every fillpath module they import, transitively (packages: their
    ``__init__.py``)."""
    seen: set[str] = set()
    todo = list(modules)
    files: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = SRC / rel_of(name)
        if not path.is_file():
            path = SRC / name.replace(".", "/") / "__init__.py"
            if not path.is_file():
                continue
        files.add(str(path.relative_to(SRC)))
        parts = name.split(".")
        for k in range(1, len(parts)):  # parent packages run first (hashed; what they import lazily is not followed)
            parent = SRC / "/".join(parts[:k]) / "__init__.py"
            if parent.is_file():
                files.add(str(parent.relative_to(SRC)))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo.append(node.module)
                todo.extend(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                todo.extend(a.name for a in node.names)
    return sorted(f for f in files if f.startswith("fillpath/"))


def main() -> int:
    force = "--force" in sys.argv
    if not force and stale_reason() is None:
        say("compiled router modules up to date")
        return 0
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None or importlib.util.find_spec("mypyc") is None:
        shutil.rmtree(BUILD, ignore_errors=True)
        say("no C compiler or no mypyc: the router runs its pure-Python modules")
        return 0
    files = closure(COMPILED)
    hashes = source_hashes(files)
    say(f"compiling {len(COMPILED)} router modules with mypyc (a minute or two)")
    with tempfile.TemporaryDirectory(prefix="fillpath-mypyc-") as tmp:
        work = Path(tmp) / "src"
        for rel in files:
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SRC / rel, work / rel)
        if source_hashes(files, work) != hashes:
            say("the sources changed while they were copied: not built (run it again)")
            return 0
        done = subprocess.run(
            [sys.executable, "-m", "mypyc", *(rel_of(m) for m in COMPILED)],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            shutil.rmtree(BUILD, ignore_errors=True)
            say(
                "mypyc failed: the router runs its pure-Python modules. Its output:\n"
                + (done.stdout + done.stderr)[-3000:]
            )
            return 0
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        out = {m: Path(rel_of(m)).with_suffix("").as_posix() + suffix for m in COMPILED}
        for lib in work.glob(f"*__mypyc{suffix}"):  # the group's shared library (a top-level module)
            out[lib.name[: -len(suffix)]] = lib.name
        fresh = BUILD.with_name("mypyc.new")
        shutil.rmtree(fresh, ignore_errors=True)
        for rel in out.values():
            (fresh / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / rel, fresh / rel)
    manifest = {"suffix": suffix, "modules": list(COMPILED), "files": out, "sources": hashes}
    (fresh / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(BUILD, ignore_errors=True)
    fresh.rename(BUILD)
    reason = stale_reason()
    if reason is not None:
        say(f"built, but not usable: {reason or 'no manifest'}")
        return 0
    say(f"compiled router modules ready in {BUILD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
