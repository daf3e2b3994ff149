"""Progress bars on stderr for long work (tqdm), silent when stderr is not a terminal
unless ``EXAMAUDIT_PROGRESS=1`` asks for it (CI logs stay readable)."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from tqdm import tqdm


def _enabled() -> bool:
    flag = os.environ.get("EXAMAUDIT_PROGRESS")
    if flag is not None:
        return flag not in ("0", "", "no")
    return sys.stderr.isatty()


@contextmanager
def fraction_bar(desc: str) -> Iterator[Callable[[float], None]]:
    """Yield a callback taking the fraction done (0..1) and drawing it as a percentage bar."""
    bar = tqdm(total=100, desc=desc, unit="%", file=sys.stderr, disable=not _enabled(), leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")

    def update(frac: float) -> None:
        target = int(round(max(0.0, min(1.0, frac)) * 100))
        if target > bar.n:
            bar.update(target - bar.n)

    try:
        yield update
    finally:
        bar.close()


def items_bar(iterable, desc: str, total: int | None = None, unit: str = "item"):
    return tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, disable=not _enabled(), leave=False)
