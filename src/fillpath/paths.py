"""Where things live on disk: the data directory and the pinned node tools. Resolved, never global."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from fillpath.model.errors import FillpathError, InvalidInput, LabError
from fillpath.model.validate import MAX_FILE_BYTES, decode_utf8

PACKAGE_DIR = Path(__file__).resolve().parent


def default_data_dir() -> Path:
    """``$FILLPATH_DATA_DIR``, else ``$XDG_DATA_HOME/fillpath``, else ``~/.local/share/fillpath``."""
    env = os.environ.get("FILLPATH_DATA_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "fillpath"


def repo_root() -> Path | None:
    """The source checkout this package runs from (editable install), if any."""
    for parent in PACKAGE_DIR.parents:
        if (parent / "foundry.toml").is_file() and (parent / "tools" / "package.json").is_file():
            return parent
    return None


def tools_dir() -> Path:
    """The folder whose ``node_modules`` holds anvil, forge, solc-js and the contract artifacts."""
    env = os.environ.get("FILLPATH_TOOLS_DIR")
    candidates = [Path(env)] if env else []
    root = repo_root()
    if root is not None:
        candidates.append(root / "tools")
    for c in candidates:
        if (c / "node_modules").is_dir():
            return c
    raise LabError(
        "the node tools are not installed (anvil, forge, contract artifacts); "
        "run `make setup` in the fillpath checkout, or set FILLPATH_TOOLS_DIR"
    )


def node_modules() -> Path:
    return tools_dir() / "node_modules"


def forge_out_dir() -> Path:
    """forge's build output (``out/``), next to ``foundry.toml``."""
    env = os.environ.get("FILLPATH_FORGE_OUT")
    if env:
        return Path(env)
    root = repo_root()
    if root is None or not (root / "out").is_dir():
        raise LabError("contracts are not built; run `make setup` (forge build, offline)")
    return root / "out"


def binary(name: str) -> Path:
    """A foundry binary from the pinned npm package, e.g. ``binary("anvil")``."""
    path = node_modules() / "@foundry-rs" / f"{name}-linux-amd64" / "bin" / name
    if not path.is_file():
        raise LabError(f"{name} is not installed at {path}; run `make setup`")
    return path


def read_private_file(path: Path, field: str) -> str:
    """A secret kept in a file (a passphrase, API credentials): it must be readable by its owner only.

    A file others can read is refused rather than used: the secret may already have leaked, and the fix is one
    ``chmod``."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InvalidInput(field, f"cannot read {path}: {exc.strerror}", "check the path") from None
    if st.st_mode & 0o077:
        raise InvalidInput(field, f"{path} is readable by others (mode {st.st_mode & 0o777:o})", f"chmod 600 {path}")
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(field, f"cannot read {path}: {exc}", "check the file") from None


# --- files fillpath reads and writes (docs/validation.md, "Files and permissions") ------------------------------

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def ensure_private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700): created so, or narrowed if it is ours and wider.

    The data directory holds the journal, keystores and credentials; its mode is the first lock on all of them."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        st = path.stat()
    except OSError as exc:
        raise InvalidInput(str(path), f"cannot create the directory: {exc.strerror}", "check the path") from None
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidInput(str(path), "is not a directory", "move the file away or choose another data directory")
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, PRIVATE_DIR)
    return path


def narrow_private_file(path: Path) -> None:
    """Make an existing file of ours 0600 (a journal or a secret written by an older version, or by SQLite)."""
    try:
        st = path.stat()
    except OSError:
        return
    if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, PRIVATE_FILE)


def read_input_text(path: Path, field: str, *, max_bytes: int = MAX_FILE_BYTES, fix: str = "check the file") -> str:
    """A text file a user gave: a regular file (a FIFO or a device would block or never end), at most ``max_bytes``,
    UTF-8. Every refusal names ``field`` and the reason."""
    name = "it" if field == str(path) else str(path)  # the field already names the file
    try:
        st = path.stat()
    except OSError as exc:
        raise InvalidInput(field, f"cannot read {name}: {exc.strerror}", fix) from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(field, f"{name} is {_kind(st.st_mode)}, not a regular file", fix)
    if st.st_size > max_bytes:
        raise InvalidInput(field, f"{name} is {st.st_size:,} bytes, more than the limit of {max_bytes:,}", fix)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput(field, f"cannot read {name}: {exc.strerror}", fix) from None
    if len(data) > max_bytes:
        raise InvalidInput(field, f"{name} is more than the limit of {max_bytes:,} bytes", fix)
    return decode_utf8(data, field, what=name if name != "it" else "the file")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output_path(path: Path, field: str) -> None:
    """Refuse, before any work, an output path that ``write_output_file`` would refuse."""
    try:
        st: os.stat_result | None = path.lstat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InvalidInput(field, f"cannot write {path}: {exc.strerror}", "give another path") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        fix = "fillpath writes only regular files; give the path of a file" + (
            " (the link's target, if that is what you meant)" if stat.S_ISLNK(st.st_mode) else ""
        )
        raise InvalidInput(field, f"{path} is {_kind(st.st_mode)}", fix)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInput(field, f"the directory {parent} does not exist", "create it first, or give another path")


def write_output_file(path: Path, data: str | bytes, field: str, *, mode: int = 0o644, keep_mode: bool = True) -> Path:
    """Write ``data`` to ``path`` as a regular file, atomically: a temporary file in the target's own directory,
    flushed to disk, then renamed over it. An existing symbolic link, device, directory or pipe at ``path`` is
    refused, never replaced (``--out /dev/full`` once left a 60 KB file where the device was). An existing file
    keeps its mode; a new one gets ``mode``. On any failure nothing is left behind."""
    check_output_path(path, field)
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    parent = path.parent if str(path.parent) else Path(".")
    payload = data.encode() if isinstance(data, str) else data
    try:
        fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(field, f"cannot write in {parent}: {exc.strerror}", "give another path") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None and keep_mode else mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FillpathError(f"{field}: could not write {path}: {exc.strerror}; nothing was written") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(parent)
    return path


def write_private_file(path: Path, data: str | bytes, field: str) -> Path:
    """A file holding a key, a secret or private state: mode 0600 from its creation on (the temporary file is
    created 0600 too), written atomically."""
    return write_output_file(path, data, field, mode=PRIVATE_FILE, keep_mode=False)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
