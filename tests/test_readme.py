"""The README works in order (issue 19): after ``fillpath demo`` on a fresh lab in a temporary data directory, every
``sh`` block of its "Walkthrough" section runs, top to bottom, each line succeeding (``bash -e``). It prints each
block's wall time (``-s``, or in the report of a failure).

Part of the default suite: three dozen CLI processes, a lab started twice and a service. What keeps it affordable is
fillpath itself: each command imports only the adapters it uses, opening a journal at head needs no alembic, ``lab
up`` starts its processes at once and ``lab down`` stops them at once. The suite also checks that every command line
of the README parses against the CLI as it is (a renamed option or command fails here first) and that the
walkthrough has no placeholders left.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from fillpath import paths
from fillpath.cli.main import app
from fillpath.model.errors import LabError

README = Path(__file__).parents[1] / "README.md"
FILLPATH = ".venv/bin/fillpath"


def walkthrough_blocks(text: str | None = None) -> list[str]:
    """The ``sh`` blocks of the README's Walkthrough section, in order."""
    body = text if text is not None else README.read_text()
    section = body.split("\n## Walkthrough\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```", section, flags=re.M | re.S)


def command_lines(block: str) -> list[list[str]]:
    """Each ``fillpath`` invocation of a block, as argv after the executable (shell syntax around it removed)."""
    out = []
    for line in block.splitlines():
        if FILLPATH not in line:
            continue
        words = shlex.split(line, comments=True)
        at = words.index(FILLPATH)
        argv = []
        for w in words[at + 1 :]:
            if w in (">", "&", ";", "&&", "||") or w.startswith((">", "2>", "&")):
                break
            argv.append(w)
        out.append(argv)
    return out


def test_the_walkthrough_has_commands_and_no_placeholders() -> None:
    blocks = walkthrough_blocks()
    assert len(blocks) >= 6
    lines = [argv for b in blocks for argv in command_lines(b)]
    assert len(lines) >= 25
    for argv in lines:
        for word in argv:
            assert not re.search(r"[A-Z_]{3,}=?\$|\$[A-Z_]|<[a-z]|\bEXECUTION_ID\b|\.\.\.", word), (argv, word)


def test_every_readme_command_parses_against_the_cli() -> None:
    """Every ``fillpath`` line in any ``sh`` block resolves to a command and its options and arguments parse."""
    root = get_command(app)
    lines = [argv for b in re.findall(r"^```sh\n(.*?)^```", README.read_text(), flags=re.M | re.S)
             for argv in command_lines(b)]  # fmt: skip
    assert lines
    for argv in lines:
        ctx = root.make_context("fillpath", list(argv))
        cmd: Any = root
        while hasattr(cmd, "resolve_command") and (rest := [*ctx._protected_args, *ctx.args]):
            name, cmd, tail = cmd.resolve_command(ctx, rest)
            assert cmd is not None, argv
            ctx = cmd.make_context(name or "", list(tail), parent=ctx)  # parses its options and arguments


def _run(script: str, env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], capture_output=True, text=True, timeout=timeout, env=env,
        cwd=cwd,
    )  # fmt: skip


@pytest.mark.timeout(900)
@pytest.mark.anvil
def test_the_readme_walkthrough_runs_in_order_after_the_demo(tmp_path: Path) -> None:
    try:
        paths.binary("anvil")
    except LabError as exc:
        pytest.skip(f"no anvil here: {exc}")
    exe = str(Path(sys.executable).with_name("fillpath"))
    env = {**os.environ, "FILLPATH_DATA_DIR": str(tmp_path / "data")}
    for name in ("FILLPATH_CONFIG", "FILLPATH_DATABASE_URL", "FILLPATH_SERVICE"):
        env.pop(name, None)
    # as a user runs it: Python caches the package's bytecode (where PYTHONDONTWRITEBYTECODE is set, as in some CI
    # shells, every one of the three dozen processes would compile fillpath's modules again)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    timings = []
    try:
        started = time.perf_counter()
        demo = _run(f"{exe} demo", env, tmp_path)
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        timings.append(("demo", time.perf_counter() - started))
        for i, block in enumerate(walkthrough_blocks()):
            started = time.perf_counter()
            res = _run(block.replace(FILLPATH, exe), env, tmp_path)
            assert res.returncode == 0, (i, block, res.stdout[-3000:], res.stderr[-3000:])
            assert "Traceback" not in res.stderr, res.stderr
            timings.append((block.splitlines()[0][:60], time.perf_counter() - started))
    finally:
        subprocess.run([exe, "lab", "down"], env=env, capture_output=True, timeout=120)
        print("\n".join(f"{s:6.1f} s  {what}" for what, s in timings))
