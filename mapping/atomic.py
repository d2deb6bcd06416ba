"""Writing files without ever leaving one half-written: every file the project writes goes through here.

The text goes to a temporary file in the same directory, is flushed to disk, and is then moved over the
target with :func:`os.replace`, which is atomic on one file system. A full disk, a crash or an interrupt
during the write leaves the previous file as it was (and no temporary file behind); a reader never sees a
truncated file.

:func:`refuse_overwriting` is the companion check the commands run before they compute anything: an output
path that is one of their inputs, or an existing directory, is refused instead of destroyed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from .errors import UsageError


def write_text(path: Path | str, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file beside it, then a rename); returns ``path``."""
    return write_bytes(path, text.encode(encoding))


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; the directory is created if needed. On any error the
    temporary file is removed and the previous ``path`` (if any) is untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _mode_for(path: Path) -> int:
    """The existing file's permissions, or the default a new file would get (mkstemp makes it 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def same_file(a: Path | str, b: Path | str) -> bool:
    """Whether two paths name one file (resolving links and relative parts); False if either is missing."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_overwriting(output: Path | str, inputs: Iterable[Path | str] = (), *, suffixes: tuple[str, ...] = (),
                       what: str = "output") -> Path:
    """Raise :class:`UsageError` if writing ``output`` would destroy data: it is an existing directory, one
    of ``inputs`` (or inside an input directory with an input's suffix), or lacks the expected suffix."""
    output = Path(output)
    if output.is_dir():
        raise UsageError(f"{output}: the {what} path is a directory; name a file")
    for given in inputs:
        given = Path(given)
        if same_file(output, given):
            raise UsageError(f"{output}: the {what} path is also an input; writing it would destroy that input")
        if given.is_dir() and output.suffix.lower() == ".json" and same_file(output.parent, given):
            raise UsageError(f"{output}: the {what} would land in the input directory {given}, where it would "
                             "be read as a results file next time")
    if suffixes and output.suffix.lower() not in suffixes:
        raise UsageError(f"{output}: the {what} must be a {' or '.join(suffixes)} file; refusing to write "
                         f"{what} to a file named otherwise (it could be one of your files)")
    return output
