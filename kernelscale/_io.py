"""Atomic file output: every file kernelscale writes (cached kernels, JSON, plots) goes through here, so an error
or an interrupt leaves either the old file or none, never a partial one. A new file gets the permissions the user's
umask gives (as ``open`` would); a replaced file keeps its own."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import ParameterError

FIGURE_FORMATS = ("png", "pdf", "svg")


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(f)`` on a temporary binary file in ``path``'s folder, then rename it to ``path``.

    On any error the temporary file is removed and the error re-raised; ``path`` is untouched.
    """
    path = Path(path)
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, mode)  # mkstemp creates it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_atomically(path, lambda f: f.write(text.encode()))


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def figure_format(path: str | os.PathLike) -> str:
    """The figure format a file's extension names (png, pdf or svg), or a ParameterError that lists them."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FIGURE_FORMATS:
        raise ParameterError(f"a figure's format follows its file's extension, one of "
                             f"{', '.join('.' + f for f in FIGURE_FORMATS)}; got {os.fspath(path)!r}.")
    return suffix


def check_output_files(paths: dict[str, str | os.PathLike | None], *, figures: tuple[str, ...] = ()) -> None:
    """Before anything is computed, that each named output file (None: not asked for) can be written: not a folder,
    in a folder that exists and takes a new file (tried with a temporary one), replaceable if it exists; the files
    distinct; those named in ``figures`` with an extension a figure format names. Raises ParameterError naming the
    option."""
    given = {name: Path(path).expanduser() for name, path in paths.items() if path is not None}
    for name, path in given.items():
        _check_writable(name, path, "figure.png" if name in figures else "result.json")
        if name in figures:
            try:
                figure_format(path)
            except ParameterError as exc:
                raise ParameterError(f"{name}: {exc}") from None
    seen: dict[Path, str] = {}
    for name, path in given.items():
        if path.resolve() in seen:
            raise ParameterError(f"{name}: {path} is also the {seen[path.resolve()]} file; give each its own file.")
        seen[path.resolve()] = name


def _check_writable(name: str, path: Path, example: str) -> None:
    if path.is_dir():
        raise ParameterError(f"{name}: {path} is a folder; give a file in it, such as {path / example}.")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ParameterError(f"{name}: folder {folder} does not exist.")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".kernelscale-check-"):
            pass
    except OSError as exc:
        raise ParameterError(f"{name}: no file can be written in {folder} ({exc.strerror or exc}).") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise ParameterError(f"{name}: {path} is not writable.")


def check_cache_folder(name: str, path: str | os.PathLike) -> Path:
    """Before anything is computed, that ``path`` can hold the kernel cache: a folder that takes new files, or a new
    name in one (tried with a temporary file; nothing is created). Returns the path; raises ParameterError."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{name}: {path} is a file; the cache is a folder (give a folder, or a new name).")
    if not path.exists() and not path.resolve().parent.is_dir():
        raise ParameterError(f"{name}: folder {path.resolve().parent} does not exist; create it, or give another "
                             "cache folder.")
    try:
        with tempfile.NamedTemporaryFile(dir=path if path.exists() else path.resolve().parent,
                                         prefix=".kernelscale-check-"):
            pass
    except OSError as exc:
        raise ParameterError(f"{name}: no file can be written in {path} ({exc.strerror or exc}).") from None
    return path
