"""``examaudit users add|list|disable|reset-password``: accounts of the audit server."""

from __future__ import annotations

import argparse
import getpass
import sys

from ..errors import InputError
from .serve import add_data_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage the audit server's accounts",
                       description="Manage the accounts of `examaudit serve` (same --data directory).")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(p))
    add = verbs.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("admin", "auditor", "reviewer", "viewer"),
                     help="viewer reads and downloads; reviewer also reviews findings; auditor also "
                     "uploads and starts audits; admin also manages users")
    add.add_argument("--city", help="limit the account to one city's exam points, e.g. 杭州市 (default: whole province)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    lst = verbs.add_parser("list", help="list accounts")
    dis = verbs.add_parser("disable", help="disable an account (logs it out everywhere)")
    dis.add_argument("name")
    rst = verbs.add_parser("reset-password", help="set a new password (logs the account out everywhere)")
    rst.add_argument("name")
    rst.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    for v in (add, lst, dis, rst):
        add_data_option(v)
        v.set_defaults(run=run)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        pw = getpass.getpass("password: ")
        if getpass.getpass("again: ") != pw:
            raise InputError("the two passwords differ")
    else:
        raise InputError("give the password on standard input with --password-stdin")
    return pw


def run(args: argparse.Namespace) -> int:
    from ..server.db import Database, migrate
    from ..server.services import users
    from ..server.settings import Settings

    settings = Settings.from_env(args.data)
    migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        with db.session() as s:
            if args.verb == "add":
                u = users.add_user(s, args.name, args.role, _password(args), args.city)
                print(f"user {u.name} added: {u.role}, {u.city or '全省 (whole province)'}")
            elif args.verb == "list":
                for u in users.list_users(s):
                    state = "disabled" if u.disabled else "active"
                    print(f"{u.name}\t{u.role}\t{u.city or '-'}\t{state}")
            elif args.verb == "disable":
                print(f"user {users.disable_user(s, args.name).name} disabled")
            elif args.verb == "reset-password":
                print(f"password of {users.reset_password(s, args.name, _password(args)).name} reset")
    finally:
        db.engine.dispose()
    return 0
