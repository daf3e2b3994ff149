"""Errors that the command line turns into exit codes.

``InputError`` is the user's problem (exit 2): a missing, empty or unreadable file, a bad
config key. Its message is one line that names the file, row, key or time, because auditors
read it, not developers. Anything else escaping the library is an internal error (exit 3).
"""

from __future__ import annotations

import os
from pathlib import Path


def displayable(text: str | Path) -> str:
    """A file name or path as text that can be printed and written to JSON.

    NVR exports copied from Windows often carry GBK-encoded Chinese names, which Linux hands
    to Python as undecodable bytes (surrogates); those are decoded as GB18030, and any other
    name that is not UTF-8 is shown with backslash escapes.
    """
    raw = os.fsencode(str(text))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


class InputError(Exception):
    """Bad input or usage. ``str(err)`` is a one-line reason naming what is wrong and where."""

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = None if path is None else displayable(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)
