"""Report charts: matplotlib figures drawn from the view-model, returned as SVG text.

Text is converted to outlines (``svg.fonttype = path``) so a chart reads the same in any
browser and in the PDF, whatever fonts the reader's machine has. Chinese labels need a CJK
font at drawing time: :func:`cjk_font` registers the one :mod:`examaudit.fonts` finds and falls back
to English labels when there is none, rather than drawing empty boxes.
"""

from __future__ import annotations

import io
import math
import threading
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from ..fonts import PREFERRED_FAMILIES, MissingFontError, cjk_font_file  # noqa: E402
from .i18n import tr  # noqa: E402
from .model import CoverageView, SeatGridView  # noqa: E402

SEVERITY_COLOURS = {"critical": "#7f0000", "high": "#d62728", "medium": "#ff7f0e", "low": "#e6c300", "info": "#7f7f7f"}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a Chinese-capable font, registered with matplotlib; None when none is installed."""
    try:
        path, _ = cjk_font_file()
    except MissingFontError:
        names = {f.name for f in font_manager.fontManager.ttflist}  # maybe matplotlib already knows one
        return next((n for n in PREFERRED_FAMILIES if n in names), None)
    try:
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    except (OSError, RuntimeError, ValueError):
        return None


def chart_lang(lang: str) -> str:
    """The language charts can be labelled in: Chinese only when a CJK font exists."""
    return lang if lang != "zh" or cjk_font() else "en"


def _style() -> dict[str, Any]:
    fam = cjk_font()
    return {
        "font.family": [fam, "DejaVu Sans"] if fam else ["DejaVu Sans"],
        "font.size": 9,
        "axes.titlesize": 10,
        "svg.fonttype": "path",
        "svg.hashsalt": "examaudit",  # stable ids: the same audit gives the same report bytes
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.unicode_minus": False,
    }


#: pyplot keeps process-wide state (rcParams under ``rc_context``, the figure registry): two threads
#: drawing at once (the server's job thread rendering a report, request threads drawing a page) could
#: restore each other's style mid-figure. Callers draw one chart at a time under this lock.
PYPLOT_LOCK = threading.RLock()


def _svg(fig: plt.Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def coverage_timeline(views: list[CoverageView], lang: str) -> str | None:
    """One bar per recording: pictures in green, gaps in red, findings as triangles."""
    if not views:
        return None
    lang = chart_lang(lang)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.2, 0.5 + 0.45 * len(views)))
        labels = []
        span = 0.0
        for i, v in enumerate(views):
            labels.append(" / ".join(x for x in (v.room, v.camera) if x) or v.recording)
            ax.broken_barh([(a, b - a) for a, b in v.intervals], (i - 0.3, 0.6), color="#2ca02c")
            ax.broken_barh([(a, b - a) for a, b in v.gaps], (i - 0.3, 0.6), color="#d62728")
            for t, sev in v.marks:
                ax.plot([t], [i + 0.42], marker="v", color=SEVERITY_COLOURS.get(sev, "k"), markersize=6, clip_on=False)
            span = max([span, v.duration_s or 0.0] + [b for _, b in v.intervals] + [b for _, b in v.gaps])
        ax.set_yticks(range(len(views)), labels)
        ax.set_ylim(len(views) - 0.4, -0.6)
        ax.set_xlim(0, span * 1.01 or 1)
        wall0 = next((v.wall0 for v in views if v.wall0 is not None), None)
        if wall0 is not None and all(v.wall0 == wall0 for v in views if v.wall0 is not None):
            from datetime import timedelta

            ticks = ax.get_xticks()
            ax.set_xticks(ticks, [(wall0 + timedelta(seconds=float(t))).strftime("%H:%M:%S") for t in ticks])
            ax.set_xlim(0, span * 1.01 or 1)
            ax.set_xlabel(tr("wall_clock", lang))
        else:
            ax.set_xlabel(tr("footage_time", lang) + " (s)")
        ax.grid(axis="x", alpha=0.3)
        return _svg(fig)


def seat_grid_chart(view: SeatGridView, lang: str) -> str:
    """Seats × samples: occupied dark, empty light, untrusted grey."""
    lang = chart_lang(lang)
    import numpy as np

    m = np.asarray(view.matrix, dtype=float)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.2, 0.6 + 0.22 * len(view.seats)))
        cmap = ListedColormap(["#cccccc", "#eef3fb", "#1f4e9a"])  # -1, 0, 1
        t = np.asarray(view.t_s, dtype=float)
        edges = np.concatenate([t, [t[-1] + (t[-1] - t[-2] if t.size > 1 else 1.0)]]) if t.size else np.arange(2)
        ax.pcolormesh(edges, np.arange(len(view.seats) + 1), m, cmap=cmap, vmin=-1.5, vmax=1.5, shading="flat")
        ax.set_yticks(np.arange(len(view.seats)) + 0.5, view.seats)
        ax.invert_yaxis()
        ax.set_xlabel(tr("footage_time", lang) + " (s)")
        ax.set_ylabel(tr("seat", lang))
        return _svg(fig)


def score_histogram(hist: dict[str, Any], lang: str) -> str:
    """Bars of the score histogram and the pass mark as a dashed line.

    Accepts ``{"bins": edges (n+1) or left edges (n), "counts": n, "pass_mark": x}`` or
    ``{"scores": [...], "pass_mark": x}``.
    """
    lang = chart_lang(lang)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 2.2))
        if "scores" in hist and "counts" not in hist:
            ax.hist([float(s) for s in hist["scores"]], bins=hist.get("bins") or 30, color="#4c72b0")
        else:
            counts = [float(c) for c in hist["counts"]]
            bins = [float(b) for b in hist["bins"]]
            width = (bins[1] - bins[0]) if len(bins) > 1 else 1.0
            ax.bar(bins[: len(counts)], counts, width=width, align="edge", color="#4c72b0", edgecolor="white")
        pm = hist.get("pass_mark")
        if pm is not None:
            ax.axvline(float(pm), color="#d62728", linestyle="--")
            ax.annotate(f"{tr('pass_mark', lang)} {float(pm):g}", (float(pm), 1.0), xycoords=("data", "axes fraction"),
                        xytext=(-4, 0), textcoords="offset points", ha="right", va="top", color="#d62728",
                        bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
        ax.set_xlabel(tr("score", lang))
        ax.set_ylabel(tr("count", lang))
        return _svg(fig)


def funnel_plot(funnel: dict[str, Any], lang: str, this_point: str | None) -> str:
    """Pass rate against candidates per exam point, with binomial 95% and 99.8% control limits."""
    lang = chart_lang(lang)
    pts = [p for p in funnel["points"] if p.get("n") and p.get("pass_rate") is not None]
    ns = [float(p["n"]) for p in pts]
    rates = [float(p["pass_rate"]) for p in pts]
    p0 = float(funnel.get("overall_rate") or (sum(r * n for r, n in zip(rates, ns)) / sum(ns)))
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 2.6))
        hi = max(ns) * 1.1
        grid = [max(2.0, hi * i / 200) for i in range(1, 201)]
        for z, style in ((1.96, ":"), (3.09, "--")):
            up = [min(1, p0 + z * math.sqrt(p0 * (1 - p0) / n)) for n in grid]
            lo = [max(0, p0 - z * math.sqrt(p0 * (1 - p0) / n)) for n in grid]
            ax.plot(grid, up, "k" + style, linewidth=0.8)
            ax.plot(grid, lo, "k" + style, linewidth=0.8)
        ax.axhline(p0, color="#555555", linewidth=0.8)
        for p, n, r in zip(pts, ns, rates):
            mine = this_point is not None and str(p.get("exam_point")) == this_point
            ax.plot([n], [r], "o", color="#d62728" if mine else "#4c72b0", markersize=7 if mine else 4)
            if mine:
                ax.annotate(tr("this_point", lang), (n, r), textcoords="offset points", xytext=(6, 4), color="#d62728")
        ax.set_xlabel(tr("candidates_n", lang))
        ax.set_ylabel(tr("pass_rate", lang))
        ax.set_ylim(0, 1.02)
        return _svg(fig)


def time_distributions(times: dict[str, list[float]], lang: str) -> str:
    """Box plots of completion times per group (minutes)."""
    lang = chart_lang(lang)
    groups = [(k, v) for k, v in times.items() if v]
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 0.8 + 0.45 * len(groups)))
        ax.boxplot([v for _, v in groups], orientation="horizontal", widths=0.5)
        ax.set_yticks(range(1, len(groups) + 1), [k for k, _ in groups])
        ax.set_xlabel(tr("minutes", lang))
        return _svg(fig)


def callback_rates(points: list[dict[str, Any]], lang: str, this_point: str | None) -> str:
    """Callback irregularity rate per exam point with its interval."""
    lang = chart_lang(lang)
    pts = [p for p in points if p.get("rate") is not None]
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(6.4, 0.8 + 0.35 * len(pts)))
        for i, p in enumerate(pts):
            r = float(p["rate"])
            lo, hi = float(p.get("low", r)), float(p.get("high", r))
            mine = this_point is not None and str(p.get("exam_point")) == this_point
            ax.errorbar([r], [i], xerr=[[r - lo], [hi - r]], fmt="o", color="#d62728" if mine else "#4c72b0", capsize=3)
        ax.set_yticks(range(len(pts)), [str(p.get("exam_point", i)) for i, p in enumerate(pts)])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel(tr("rate", lang))
        return _svg(fig)
