"""Free space in DATA: refuse work that cannot fit before its first byte, and word a full disk.

A full disk is not a bug: an upload, import or audit that runs out of space answers 507
(Insufficient Storage) with one line saying how much is free, and leaves nothing half-written.
``settings.disk_reserve_bytes`` is kept free on top of what a piece of work needs, so the
database, the job queue and the audits of what already arrived still have room.
"""

from __future__ import annotations

from ...errors import disk_full, free_bytes
from ..settings import Settings

#: HTTP 507 Insufficient Storage (RFC 4918): the answer to a request that did not fit.
INSUFFICIENT_STORAGE = 507


def ensure_room(settings: Settings, what: str, needs: int) -> None:
    """Raise :class:`DiskFull` when ``needs`` bytes would leave less than the reserve free in DATA."""
    free = free_bytes(settings.data_dir)
    if free is not None and needs > free - settings.disk_reserve_bytes:
        raise disk_full(settings.data_dir, what, needs, kept=settings.disk_reserve_bytes)

