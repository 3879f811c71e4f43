"""Reading the files a user hands the API (light: no adapter is imported here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fillpath.model.errors import InvalidInput
from fillpath.paths import read_input_text
from fillpath.router.snapshot import Snapshot, loads_snapshot


def read_snapshot_file(path: Path) -> tuple[Snapshot, dict[str, Any]]:
    """A snapshot file, strictly validated: a bad field is named by its JSON path (``venues[3].reserve0``). The
    file must be a regular UTF-8 file within the size limit, and nest no deeper than the format does
    (``model/validate.py``), checked before it is parsed."""
    text = read_input_text(path, str(path), fix="give the path of a snapshot file (docs/SNAPSHOT.md)")
    try:
        snap = loads_snapshot(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.field}", exc.problem, exc.fix) from None
    return snap, json.loads(text)  # within the limits: loads_snapshot parsed it
