"""Review decisions as plain data: what a reviewer decided about a finding, applied at render time.

A decision never edits ``findings.json``. The server (or anyone) writes ``reviews.json`` in the
audit folder: ``{"reviews": [{"finding_id", "decision", "comment", "by", "at"}, ...]}``. The
report lists a dismissed finding as dismissed, with the reviewer's reason, and leaves it out
of the risk level, the risk score and the recommended action. ``confirmed`` and ``unsure``
change nothing in the risk; they are shown beside the finding.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InputError

REVIEWS_NAME = "reviews.json"
DECISIONS = ("confirmed", "dismissed", "unsure")


@dataclass(frozen=True)
class ReviewDecision:
    """The current decision on one finding.

    Example:
        >>> d = ReviewDecision("video-tamper_splice-0123456789ab", "dismissed", "考点停电，已核实", "reviewer1",
        ...                    "2024-06-22T10:00:00+08:00")
        >>> counted_findings([d.finding_id, "other"], {d.finding_id: d})
        ['other']
    """

    finding_id: str
    decision: str
    comment: str = ""
    by: str = ""
    at: str = ""

    def __post_init__(self):
        if self.decision not in DECISIONS:
            raise ValueError(f"decision {self.decision!r} is not one of {', '.join(DECISIONS)}")


def counted_findings(findings: list, reviews: dict[str, ReviewDecision]) -> list:
    """The findings (objects with ``.id``, or ids) that count towards risk: all but the dismissed."""

    def fid(f) -> str:
        return f if isinstance(f, str) else f.id

    return [f for f in findings if getattr(reviews.get(fid(f)), "decision", None) != "dismissed"]


def read_reviews(audit_dir: str | Path) -> dict[str, ReviewDecision]:
    """The decisions in ``audit_dir/reviews.json`` by finding id ({} when there is none)."""
    path = Path(audit_dir) / REVIEWS_NAME
    if not path.is_file():
        return {}
    try:
        rows = json.loads(path.read_text(encoding="utf-8")).get("reviews", [])
        return {r["finding_id"]: ReviewDecision(**r) for r in rows}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"not a valid reviews file: {exc}", path=path) from None


def write_reviews(audit_dir: str | Path, reviews: list[ReviewDecision]) -> Path:
    path = Path(audit_dir) / REVIEWS_NAME
    rows = [asdict(r) for r in sorted(reviews, key=lambda r: r.finding_id)]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"reviews": rows}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
