"""The audit server: a shell over the library, like the CLI (see docs/server.md).

FastAPI routes (HTTP only) -> services (one module per noun) -> SQLAlchemy models; the
analysis runs in huey workers that call ``examaudit.audit.run_audit``.
"""
