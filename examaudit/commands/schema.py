"""``examaudit schema``: print or write the JSON Schema of findings.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..findings import findings_json_schema


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of findings.json",
                       description="Print (or write with --out) the JSON Schema that findings.json follows.")
    p.add_argument("--out", type=Path, help="write the schema to this file instead of stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    text = json.dumps(findings_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
