"""``records/summary.json``: the plain numbers behind the report's records charts.

The report must not recompute statistics, so the records run writes what the charts draw:
the province score histogram with the pass mark, the pass-rate funnel, completion times per
exam point, similarity clusters, callback rates with their intervals, and the certificate
cross-check counts. Everything is JSON-ready lists and numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .pipeline import RecordsResult

#: completion-time lists are capped per exam point; a box plot needs no more.
MAX_TIMES_PER_POINT = 2000


def _f(x: Any) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else round(x, 6)


def records_summary(result: RecordsResult, exam_point: str | None = None) -> dict[str, Any]:
    """Chart data for the report; ``exam_point`` marks the audited one where several are present."""
    out: dict[str, Any] = {"exam_point": exam_point, "skipped": result.skipped}
    scores = result.tables.scores
    total = np.asarray(scores.total, dtype=float)
    pass_mark = np.asarray(scores.pass_mark, dtype=float)
    finite = np.isfinite(total)
    if finite.any():
        counts, bins = np.histogram(total[finite], bins=np.arange(0, max(100.0, np.nanmax(total)) + 2, 2.0))
        pm = float(np.nanmedian(pass_mark)) if np.isfinite(pass_mark).any() else None
        out["score_histogram"] = {"counts": counts.tolist(), "bins": bins.tolist(), "pass_mark": pm}
    pr = result.rates.get("pass_rate")
    if pr is not None:
        out["funnel"] = {
            "overall_rate": _f(pr.target),
            "points": [
                {"exam_point": str(ep), "n": int(n), "pass_rate": _f(r), "upper95": _f(u95), "upper998": _f(u998)}
                for ep, n, r, u95, u998 in zip(pr.exam_point, pr.totals, pr.rate, pr.funnel_upper95, pr.funnel_upper998)
            ],
        }
    dur = scores.duration_s
    if np.isfinite(dur).any():
        groups: dict[str, list[float]] = {}
        for ep in np.unique(scores.exam_point):
            d = dur[(scores.exam_point == ep) & np.isfinite(dur)] / 60.0
            if d.size:
                groups[str(ep)] = [round(float(x), 2) for x in d[:MAX_TIMES_PER_POINT]]
        out["completion_times"] = {"unit": "minutes", "groups": groups}
    if result.similarity_clusters:
        out["similarity_clusters"] = result.similarity_clusters
    cb = [(name.removeprefix("callback_"), t) for name, t in result.rates.items() if name.startswith("callback_")]
    if cb:
        out["callback_rates"] = {
            "points": [
                {"exam_point": f"{ep} · {ind}", "indicator": ind, "rate": _f(r), "low": _f(lo), "high": _f(hi),
                 "shrunk": _f(s), "n": int(n)}
                for ind, t in cb
                for ep, r, lo, hi, s, n in zip(t.exam_point, t.rate, t.lower95, t.upper95, t.shrunk, t.totals)
                if exam_point is None or str(ep) == exam_point
            ]
        }
    cert = result.certificates
    if cert is not None:
        out["certificates"] = {
            "certificate_without_pass": len(cert.certificate_without_pass),
            "pass_without_certificate": len(cert.pass_without_certificate),
            "multiple_certificates": len(cert.multiple_certificates),
            "duplicate_certificate": len(cert.duplicate_certificate),
            "certificate_absent_on_video": len(cert.certificate_absent_on_video),
        }
    return out
