"""Errors that the command line turns into exit codes.

``InputError`` is the user's problem (exit 2): a missing, empty or unreadable file, a bad
config key. Its message is one line that names the file, row, key or time, because auditors
read it, not developers. Anything else escaping the library is an internal error (exit 3).
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input or usage. ``str(err)`` is a one-line reason naming what is wrong and where."""

    def __init__(self, message: str, *, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)
