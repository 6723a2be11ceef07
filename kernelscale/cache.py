"""The on-disk kernel cache: where it is, what it holds, and clearing it (``kernelscale cache``). No JAX import.

The folder (``$KERNELSCALE_CACHE``, else ``~/.cache/kernelscale``) holds one ``kernel-<key>.npy`` per computed Gram
matrix (with a ``.device`` file naming the platform that computed it) and, while a matrix is computed, a folder
``kernel-<key>.partial-b<batch>`` of its finished blocks, so an interrupted computation resumes; the folder is removed
once the matrix is saved. A partial folder left behind belongs to a computation that was interrupted and not rerun.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path


def cache_dir() -> Path:
    """Folder for cached kernels: ``$KERNELSCALE_CACHE`` or ``~/.cache/kernelscale``."""
    return Path(os.environ.get("KERNELSCALE_CACHE", Path.home() / ".cache" / "kernelscale"))


@dataclasses.dataclass(frozen=True)
class CacheContents:
    """What the cache folder holds: whole kernels (count, bytes) and partial folders of interrupted computations
    (count, files, bytes)."""

    folder: Path
    kernels: int
    kernel_bytes: int
    partial_folders: int
    partial_files: int
    partial_bytes: int

    def describe(self) -> str:
        return (f"{self.folder}: {self.kernels} kernel(s), {self.kernel_bytes / 2**20:.1f} MiB; "
                f"{self.partial_folders} partial folder(s) of interrupted computations, {self.partial_files} block "
                f"file(s), {self.partial_bytes / 2**20:.1f} MiB")


def _partial_folders(folder: Path) -> list[Path]:
    return [p for p in folder.glob("kernel-*.partial-b*") if p.is_dir()]


def inspect_cache(folder: Path | None = None) -> CacheContents:
    """The contents of the cache folder (default :func:`cache_dir`); an absent folder is empty."""
    folder = cache_dir() if folder is None else folder
    kernels = [p for p in folder.glob("kernel-*.npy") if p.is_file()] if folder.is_dir() else []
    partial = _partial_folders(folder) if folder.is_dir() else []
    blocks = [f for p in partial for f in p.iterdir() if f.is_file()]
    return CacheContents(folder, len(kernels), sum(p.stat().st_size for p in kernels), len(partial), len(blocks),
                         sum(f.stat().st_size for f in blocks))


def clear_cache(folder: Path | None = None, *, partial_only: bool = False) -> CacheContents:
    """Remove the partial folders (``partial_only``) or every cached kernel and partial folder; returns what was
    there before. Other files in the folder are left alone."""
    folder = cache_dir() if folder is None else folder
    before = inspect_cache(folder)
    for partial in _partial_folders(folder) if folder.is_dir() else []:
        shutil.rmtree(partial)
    if not partial_only and folder.is_dir():
        for path in [*folder.glob("kernel-*.npy"), *folder.glob("kernel-*.device")]:
            path.unlink(missing_ok=True)
    return before
