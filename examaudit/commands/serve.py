"""``examaudit serve``: the audit server (API, pages and job workers) on one data directory."""

from __future__ import annotations

import argparse
import os

from ..errors import InputError

DATA_HELP = ("data directory: the SQLite database examaudit.db (unless --db), the job queue queue.db, "
             "originals/<sha256> (every uploaded file, stored once, read-only), exam_points/<code>/ "
             "(inputs and audit outputs), secret.key. Back it up with `examaudit backup`. "
             "Default $EXAMAUDIT_DATA or ./examaudit-data")


def add_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", default=None, help=DATA_HELP)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="start the audit server (web pages, JSON API, job workers)",
        description="Start the audit server: FastAPI under uvicorn plus the workers that run audits. "
        "Migrates the database on start and picks up jobs left unfinished by a previous run. "
        "Create the first user with `examaudit users add NAME --role admin --password-stdin`.",
    )
    add_data_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (default %(default)s; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="audits run at the same time (worker threads; default %(default)s)")
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL instead of SQLite in DIR, e.g. postgresql+psycopg://user:pw@host/examaudit "
                   "(or $EXAMAUDIT_DB_URL; needs the postgres extra)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import socket

    import uvicorn

    from ..server.app import create_app
    from ..server.settings import Settings

    if args.workers < 0:
        raise InputError(f"--workers must be 0 or more, got {args.workers}")
    settings = Settings.from_env(args.data, args.db, workers=args.workers)
    app = create_app(settings)
    # Bind first so that --port 0 can say which port it got (tests and scripts read this line).
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    print(f"examaudit serve: http://{args.host}:{port}/  data {settings.data_dir}  pid {os.getpid()}", flush=True)
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
