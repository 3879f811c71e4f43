"""Where things live on disk: the data directory and the pinned node tools. Resolved, never global."""

from __future__ import annotations

import os
from pathlib import Path

from fillpath.model.errors import InvalidInput, LabError

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
