"""Replace a folder only as a whole: build the new one beside it, then swap it in.

``replace_folder(dest, build)`` calls ``build(tmp)`` on an empty folder next to
``dest`` (same file system, so renames are atomic). If ``build`` raises, the temporary
folder is removed and ``dest`` is left exactly as it was. Otherwise the swap is two
renames, ``dest -> .old`` then ``tmp -> dest``, and the old folder is deleted last:
at no moment does ``dest`` hold a mix of old and new files. If the process dies between
the two renames, the previous report is still whole, in the hidden ``.<name>.old-*``
folder beside it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_folder(dest: Path, build: Callable[[Path], None]) -> None:
    """Build a new ``dest`` with ``build(tmp)`` and swap it in whole (see module doc)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        _make_shareable(tmp)
        build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not dest.exists():
        os.rename(tmp, dest)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.rename(dest, trash / dest.name)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(trash / dest.name, dest)  # put the previous report back
        shutil.rmtree(tmp, ignore_errors=True)
        trash.rmdir()
        raise
    shutil.rmtree(trash)


def _make_shareable(folder: Path) -> None:
    """``mkdtemp`` makes a private (0700) folder; give it the usual permissions instead."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
