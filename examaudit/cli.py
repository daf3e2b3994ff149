"""The ``examaudit`` command line: parse arguments, show progress, call the library.

Each subcommand lives in ``examaudit/commands/<name>.py`` with ``add_parser(subparsers)``
and ``run(args) -> int``. No analysis happens here.

Exit codes: 0 success (with or without findings), 2 bad input or usage, 3 internal error,
130 interrupted (work already finished is kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from . import __version__
from .errors import InputError

#: Subcommands in the order ``--help`` lists them. A name is added only once it works.
COMMANDS = ["analyze", "records", "audit", "scenarios", "demo", "bench", "verify", "form1", "form2", "cases", "callbacks", "schema",
            "serve", "users", "backup"]

EXIT_OK, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own exit code is 2 already; keep one line
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"examaudit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="examaudit",
        description="考点审计工具 / Audit exam centres: footage integrity, people in the room, "
        "records forensics, reports and evidence packs.",
    )
    parser.add_argument("--version", action="version", version=f"examaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.commands.{name}":
                continue  # not built yet in this checkout
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        return int(args.run(args) or 0)
    except InputError as exc:
        print(f"examaudit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("examaudit: interrupted; finished work is kept, rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported as exit 3
        traceback.print_exc(file=sys.stderr)
        print(f"examaudit: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
