"""``examaudit verify PACK``: check an evidence pack; exit 0 intact, 1 altered, 2 unreadable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..report.pack import verify_pack

EXIT_ALTERED = 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="check an evidence pack (hashes, BagIt structure, chain of custody)",
        description="Check an evidence pack written by `examaudit audit` (evidence_pack.zip): recompute the "
        "sha256 of every file, validate the BagIt bag and the chain-of-custody log. Exit 0 when intact, "
        "1 naming every changed, missing or unexpected file, 2 when the file cannot be read as a pack.",
    )
    p.add_argument("pack", type=Path, help="the evidence pack (.zip)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = verify_pack(args.pack)
    if result.ok:
        print(f"{args.pack}: intact ({result.files_checked} files checked, custody chain unbroken)")
        return 0
    print(f"{args.pack}: ALTERED", file=sys.stderr)
    for line in result.lines():
        print(f"  {line}", file=sys.stderr)
    return EXIT_ALTERED
