"""Where the repository, the shared data beside it and the caches lie, and the keys that tell a cache is stale: one
place for every tool (training, fitting, benchmarks, tests). The runtime reads none of it: its files lie in its
packages."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


def is_checkout(packages_root: Path) -> bool:
    """Whether the packages lie in a source checkout (pyproject.toml beside them), not installed in site-packages."""
    return (packages_root / "pyproject.toml").is_file()


PACKAGES_ROOT = Path(__file__).resolve().parents[1]
IS_CHECKOUT = is_checkout(PACKAGES_ROOT)
# A checkout keeps its results, caches and shared data where the development machines have them. An installed copy
# lies in site-packages, which no tool may write into (it may be read-only, and is not the user's): there the working
# folder stands in for the checkout.
REPO = PACKAGES_ROOT if IS_CHECKOUT else Path.cwd()
SHARED = REPO.parent / "shared"  # the data and media beside the checkout on the development machines; absent in CI
SHARED_DATA = SHARED / "data"
SHARED_MEDIA = SHARED / "media"
CACHE_ROOT = REPO / ".cache"
KEY_CHARS = 16  # of a sha256: enough to tell apart every version a cache folder will ever hold


def module_files(modules: Iterable[ModuleType]) -> list[Path]:
    """The source file of each module: a cache keyed by them follows the code wherever it moves."""
    return [Path(inspect.getfile(module)) for module in modules]


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, as `sha256sum` prints it: what names one checkpoint or download."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def content_digest(paths: Iterable[Path], salt: str = "") -> str:
    """sha256 over the salt and each file's name and bytes; a missing file raises, it never drops out of the key."""
    h = hashlib.sha256(salt.encode())
    for path in paths:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(modules: Iterable[ModuleType], files: Iterable[Path] = (), salt: str = "") -> str:
    """The key of a cache whose content follows from these modules' code, these files and the salt."""
    return content_digest([*module_files(modules), *files], salt)[:KEY_CHARS]
