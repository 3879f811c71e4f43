"""Files fillpath reads and writes: regular files only, atomic, private where they hold state (``paths.py``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fillpath.model.errors import InvalidInput
from fillpath.paths import ensure_private_dir, read_input_text, write_output_file, write_private_file


def test_output_is_written_atomically_and_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    write_output_file(out, "one", "--out")
    assert out.read_text() == "one" and stat.S_IMODE(out.stat().st_mode) == 0o644
    out.chmod(0o640)
    write_output_file(out, "two", "--out")
    assert out.read_text() == "two" and stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.json"]  # no temporary file left


def test_a_symlink_a_device_or_a_directory_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "target.json"
    target.write_text("keep")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(InvalidInput, match="symbolic link"):
        write_output_file(link, "x", "--out")
    assert link.is_symlink() and target.read_text() == "keep"
    with pytest.raises(InvalidInput, match="device"):
        write_output_file(Path("/dev/full"), "x", "--out")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    with pytest.raises(InvalidInput, match="directory"):
        write_output_file(tmp_path, "x", "--out")


def test_private_files_and_directories(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    ensure_private_dir(data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    secret = data / "s.json"
    secret.write_text("old")
    secret.chmod(0o644)
    write_private_file(secret, "new", "secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and secret.read_text() == "new"


def test_input_must_be_a_regular_utf8_file_within_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="a pipe"):  # read, it would block forever
        read_input_text(fifo, "SNAPSHOT")
    big = tmp_path / "big"
    big.write_bytes(b" " * 100)
    with pytest.raises(InvalidInput, match="limit"):
        read_input_text(big, "SNAPSHOT", max_bytes=10)
    latin = tmp_path / "latin"
    latin.write_bytes("café".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_input_text(latin, "SNAPSHOT")
