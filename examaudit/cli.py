"""The ``examaudit`` command line: parse arguments, show progress, call the library.

Each subcommand lives in ``examaudit/commands/<name>.py`` with ``add_parser(subparsers)``
and ``run(args) -> int``. No analysis happens here.

Exit codes: 0 success (with or without findings), 2 bad input or usage, 3 internal error,
130 interrupted (work already finished is kept; rerun to resume).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import traceback

from . import __version__
from .errors import InputError, disk_full, is_disk_full
from .fonts import MissingFontError, require_cjk_font

#: Subcommands in the order ``--help`` lists them. A name is added only once it works.
COMMANDS = ["analyze", "records", "audit", "screen", "scenarios", "demo", "bench", "verify", "form1", "form2", "cases",
            "callbacks", "schema", "serve", "users", "backup"]

EXIT_OK, EXIT_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 2, 3, 130
#: Commands that draw Chinese onto pictures (evidence captions, generated clocks): they check for
#: a CJK font before any work starts, rather than hand enforcement captions of question marks.
DRAWING_COMMANDS = {"analyze", "audit", "demo", "scenarios", "screen", "serve"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own exit code is 2 already; keep one line
        self.print_usage(sys.stderr)
        self.exit(EXIT_INPUT, f"examaudit: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with ``only`` that one: each command module imports its
    own stack (scikit-learn, the ONNX runtime, the web server), and a command should not wait for
    the others' imports to start."""
    parser = _Parser(
        prog="examaudit",
        description="考点审计工具 / Audit exam centres: footage integrity, people in the room, "
        "records forensics, reports and evidence packs.",
    )
    parser.add_argument("--version", action="version", version=f"examaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    # A command registered by another's module (form2 by form1's) needs the full parser.
    alone = only in COMMANDS and importlib.util.find_spec(f"{__package__}.commands.{only}") is not None
    for name in ([only] if alone else COMMANDS):
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.commands.{name}":
                continue  # not built yet in this checkout
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_INPUT
    try:
        if args.command in DRAWING_COMMANDS:
            require_cjk_font()
        return int(args.run(args) or 0)
    except MissingFontError as exc:
        print(f"examaudit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"examaudit: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("examaudit: interrupted; finished work is kept, rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the last line of defence, reported as exit 3
        if is_disk_full(exc):  # not a bug: say where the space ran out, no traceback
            where = getattr(exc, "filename", None) or getattr(args, "out", None) or "."
            print(f"examaudit: error: {disk_full(where)}", file=sys.stderr)
            return EXIT_INPUT
        traceback.print_exc(file=sys.stderr)
        print(f"examaudit: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
