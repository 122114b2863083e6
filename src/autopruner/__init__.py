"""AutoPruner: a boosted H->bb tagger pruned during training to an exact node budget, from toy events to firmware."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"


def _source_digest(root: Path) -> str:
    """A short hash of every Python source file of the package (path and bytes)."""
    sha = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        sha.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def numba_cache_dir(root: Path | None = None) -> Path:
    """Where numba caches this source tree's compiled kernels: one folder per digest of the package source.

    numba's own cache is checked against the timestamp of the file that holds the cached function only, so a kernel
    that calls into an edited module (``toy.generate_kernel`` into ``decays``) would silently keep the old machine
    code. Keying the cache folder on the whole package source makes any edit compile afresh.
    """
    root = Path(__file__).resolve().parent if root is None else root
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "autopruner" / "numba"
    return base / _source_digest(root)


# before any autopruner module imports numba; a user's explicit NUMBA_CACHE_DIR wins
os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))
