"""The one exit-code table (issue 19): each error tier maps to its code in the funnel, and docs/operations.md shows
the same table. Every command's failure modes run in ``test_failure_table.py``; reconcile's 3 in
``test_venue_identity.py``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fillpath.cli.main import EXIT_FAILED, EXIT_HALTED, EXIT_OK, EXIT_REFUSED, exit_code, run
from fillpath.execution.guards import GuardFailure, GuardsFailed
from fillpath.model.errors import (
    Ambiguous,
    DamagedState,
    FillpathError,
    Halted,
    InvalidInput,
    LabError,
    LabNotRunning,
    Refused,
    Rejected,
    Retryable,
)

DOC = Path(__file__).parents[2] / "docs" / "operations.md"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("--x", "bad"), EXIT_REFUSED),
        (DamagedState("journal", "damaged"), EXIT_REFUSED),
        (Refused("in flight"), EXIT_REFUSED),
        (LabNotRunning("start the lab"), EXIT_REFUSED),
        (Halted("kill switch"), EXIT_HALTED),
        (GuardsFailed([GuardFailure("kill_switch", None, "engaged")]), EXIT_HALTED),
        (Rejected("no"), EXIT_FAILED),
        (Ambiguous("unknown"), EXIT_FAILED),
        (Retryable("later"), EXIT_FAILED),
        (LabError("anvil did not start"), EXIT_FAILED),
        (FillpathError("other"), EXIT_FAILED),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_each_error_tier_has_its_code(error: Exception, code: int) -> None:
    assert exit_code(error) == code


def test_the_docs_show_the_table_the_funnel_applies() -> None:
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d) \| ([^|]+) \|", DOC.read_text(), re.M)}
    assert set(rows) == {EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_HALTED}
    assert "failed" in rows[EXIT_FAILED] and "refused" in rows[EXIT_REFUSED] and "halted" in rows[EXIT_HALTED]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["reconcile", "--bogus"])
    assert exc.value.code == EXIT_REFUSED and "No such option" in capsys.readouterr().err
