"""The compiled router modules (mypyc, ``fillpath.router._native``): used only when built from the sources on disk,
and giving the same plans as the pure-Python modules, to the wei."""

from __future__ import annotations

import importlib.machinery
import json
import os
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from fillpath.router import _native
from fillpath.router.curves import PiecewiseLinearCurve, piecewise_from_cumulative

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _fake_build(tmp_path: Path) -> tuple[Path, Path]:
    """A source tree with one module and a build whose manifest matches it (the extension file is a stub: these tests
    never load it)."""
    src, build = tmp_path / "src", tmp_path / "build"
    (src / "fillpath").mkdir(parents=True)
    (src / "fillpath" / "mod.py").write_text("X = 1\n")
    build.mkdir()
    files = {m: f"{m.replace('.', '/')}{SUFFIX}" for m in _native.COMPILED}
    for rel in files.values():
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        (build / rel).write_bytes(b"")
    manifest = {
        "suffix": SUFFIX,
        "modules": list(_native.COMPILED),
        "files": files,
        "sources": _native.source_hashes(["fillpath/mod.py"], src),
    }
    (build / _native.MANIFEST).write_text(json.dumps(manifest))
    return src, build


def test_a_build_is_used_only_while_its_sources_are_unchanged(tmp_path: Path) -> None:
    src, build = _fake_build(tmp_path)
    assert _native.stale_reason(build, src) is None
    (src / "fillpath" / "mod.py").write_text("X = 2\n")  # an edited source: the build is stale
    assert "fillpath/mod.py" in (_native.stale_reason(build, src) or "")
    (src / "fillpath" / "mod.py").write_text("X = 1\n")
    assert _native.stale_reason(build, src) is None
    (src / "fillpath" / "mod.py").unlink()  # a source gone is a change too
    assert "fillpath/mod.py" in (_native.stale_reason(build, src) or "")


def test_a_build_for_another_interpreter_or_module_list_or_with_a_file_missing_is_not_used(tmp_path: Path) -> None:
    src, build = _fake_build(tmp_path)
    manifest = json.loads((build / _native.MANIFEST).read_text())
    for change in ({"suffix": ".cpython-399-x86_64-linux-gnu.so"}, {"modules": list(_native.COMPILED[:-1])}):
        (build / _native.MANIFEST).write_text(json.dumps({**manifest, **change}))
        assert _native.stale_reason(build, src)
    (build / _native.MANIFEST).write_text(json.dumps(manifest))
    (build / manifest["files"][_native.COMPILED[0]]).unlink()
    assert "missing" in (_native.stale_reason(build, src) or "")
    assert _native.stale_reason(tmp_path / "nowhere", src) == ""  # no build at all: nothing to warn about


def test_a_stale_build_falls_back_to_pure_python_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, build = _fake_build(tmp_path)
    (src / "fillpath" / "mod.py").write_text("X = 3\n")
    monkeypatch.delenv("FILLPATH_PURE", raising=False)
    before = list(sys.meta_path)
    with pytest.warns(RuntimeWarning, match="not used"):
        assert _native.install(build, src) is False
    assert sys.meta_path == before
    monkeypatch.setenv("FILLPATH_PURE", "1")  # forced: no finder, no warning, even for a matching build
    (src / "fillpath" / "mod.py").write_text("X = 1\n")
    assert _native.install(build, src) is False
    assert sys.meta_path == before


def test_the_real_build_is_refused_once_a_router_module_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process the router modules are already imported (compiled or not): installing again must not mix a
    second copy in."""
    monkeypatch.delenv("FILLPATH_PURE", raising=False)
    if _native.stale_reason() is not None:
        pytest.skip("no usable compiled build (no C compiler, or run `bash scripts/setup.sh`)")
    before = list(sys.meta_path)
    with pytest.warns(RuntimeWarning, match="imported before"):
        assert _native.install() is False
    assert sys.meta_path == before


_PLANS = """
import json, sys
import fillpath.router._native as native
import fillpath.router.newton as newton
from tests.router.mixed import FAMILIES, mixed_case
from fillpath.router import RouteRequest, route
out = []
for f, fam in enumerate(FAMILIES):
    for seed in (0, 1, 2):
        case = mixed_case(seed, fam)
        for k in (0.5, 1.0):
            req = RouteRequest(str(case.sell), int(case.amount * k), str(case.buy), max_hops=4, gas=fam.gas)
            try:
                p = route(case.market, req)
                out.append([p.expected_out, p.net_out, p.upper_bound, [repr(leg) for leg in p.legs]])
            except Exception as e:
                out.append(repr(e))
print(json.dumps({"active": native.ACTIVE, "newton": newton.__file__, "plans": out}))
"""


def _plans(pure: bool) -> dict[str, object]:
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)]),
        "FILLPATH_PURE": "1" if pure else "",
    }
    done = subprocess.run([sys.executable, "-c", _PLANS], env=env, cwd=root, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_compiled_and_pure_modules_give_the_same_plans_to_the_wei() -> None:
    if _native.stale_reason() is not None:
        pytest.skip("no usable compiled build (no C compiler, or run `bash scripts/setup.sh`)")
    compiled, pure = _plans(pure=False), _plans(pure=True)
    assert compiled["active"] is True and str(compiled["newton"]).endswith(SUFFIX)
    assert pure["active"] is False and str(pure["newton"]).endswith(".py")
    plans = pure["plans"]
    assert isinstance(plans, list) and all(not isinstance(p, str) for p in plans)  # every case routed
    assert compiled["plans"] == plans


def test_a_book_curve_is_its_exact_level_differences_rounded_once() -> None:
    """``piecewise_from_cumulative`` divides integers (no ``Fraction`` gcd); compiled, ``a / b`` on ints below 2^62
    divided two doubles, each rounded first: 14 of 720 benchmark plans moved by a few wei per leg. Run in both modes
    (``FILLPATH_PURE=1`` and compiled), this pins the pure-Python result: float(exact difference)."""
    rng = random.Random(5)
    points, total = [], Fraction(0)
    for _ in range(300):
        total += Fraction(rng.randrange(2**54, 2**62), rng.randrange(1, 2**20))
        points.append((total, Fraction(rng.randrange(1, 10**9), 10**6)))
    segments, before = [], Fraction(0)
    for level, rate in points:
        segments.append((float(rate), float(level - before)))
        before = level
    assert piecewise_from_cumulative(points).cumulative == PiecewiseLinearCurve(segments).cumulative
