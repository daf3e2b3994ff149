"""Render the audit report: ``DIR/report.html`` (self-contained) and ``DIR/report.pdf``.

The edge of the report layer: reads the audit directory, asks :mod:`.model` for the
view-model and :mod:`.charts` for SVG charts, embeds evidence pictures and charts as data
URIs, renders the Jinja2 template and prints it to PDF with WeasyPrint.

Example (an empty directory renders too, as "nothing analysed"; normally it is the folder
``examaudit audit`` wrote, e.g. ``out/EP-HZ-01``):
    >>> import tempfile
    >>> audit_dir = Path(tempfile.mkdtemp())
    >>> files = render_report(audit_dir)
    >>> files.html_path.name, files.pdf_path.name
    ('report.html', 'report.pdf')
    >>> render_report(audit_dir, lang="en", pdf=False).pdf_path is None
    True
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..errors import InputError
from ..outputs import write_atomic
from . import charts
from .auditdir import load_audit_dir, load_report_inputs
from .i18n import LANGS, tr
from .model import FrameView, ReportModel, build_model

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Evidence pictures are embedded at most this wide; the pack keeps the full-size originals.
EMBED_MAX_WIDTH = 960

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFiles:
    html_path: Path
    pdf_path: Path | None


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def embed_frame(frame: FrameView) -> str | None:
    """A frame as a JPEG data URI, downscaled to :data:`EMBED_MAX_WIDTH`; None when the file is absent."""
    if frame.path is None or not frame.path.is_file():
        return None
    data = frame.path.read_bytes()
    try:
        import cv2
        import numpy as np

        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is not None and img.shape[1] > EMBED_MAX_WIDTH:
            scale = EMBED_MAX_WIDTH / img.shape[1]
            img = cv2.resize(img, (EMBED_MAX_WIDTH, round(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
            if ok:
                data = buf.tobytes()
    except ImportError:  # pragma: no cover - OpenCV is a dependency; embed full size without it
        pass
    mime = "image/png" if data[:4] == b"\x89PNG" else "image/jpeg"
    return _data_uri(data, mime)


def _chart(fn: Callable[..., str | None], *args: Any) -> str | None:
    """Draw one chart as an SVG data URI; a chart that cannot be drawn is left out, not fatal."""
    try:
        with charts.PYPLOT_LOCK:
            svg = fn(*args)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as exc:
        log.warning("chart %s skipped: %s", fn.__name__, exc)
        return None
    return None if svg is None else _data_uri(svg.encode("utf-8"), "image/svg+xml")


def draw_charts(model: ReportModel) -> dict[str, Any]:
    return {
        "coverage": _chart(charts.coverage_timeline, model.coverage, model.lang),
        "seats": [_chart(charts.seat_grid_chart, g, model.lang) for g in model.seats],
        **draw_records_charts(model),
    }


def draw_records_charts(model: ReportModel) -> dict[str, Any]:
    """The records charts alone (the server's exam point page draws its own coverage and seats)."""
    lang, rec = model.lang, model.records
    return {
        "score_hist": _chart(charts.score_histogram, rec.score_hist, lang) if rec.score_hist else None,
        "funnel": _chart(charts.funnel_plot, rec.funnel, lang, model.exam_point) if rec.funnel else None,
        "times": _chart(charts.time_distributions, rec.times, lang) if rec.times else None,
        "callbacks": _chart(charts.callback_rates, rec.callbacks, lang, model.exam_point) if rec.callbacks else None,
    }


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None or v != v else f"{100 * float(v):.1f}%"
    return env


def render_html(model: ReportModel) -> str:
    """The report as one self-contained HTML string (no external files, no scripts)."""
    env = _environment()
    frames = {id(fr): embed_frame(fr) for f in model.findings for fr in f.frames}
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html.j2").render(
        m=model,
        t=lambda key, **kw: tr(key, model.lang, **kw),
        charts=draw_charts(model),
        frame_uri=lambda fr: frames.get(id(fr)),
        css=css,
    )


def render_report(audit_dir: str | Path, *, lang: str = "zh", show_personal_data: bool = False,
                  pdf: bool = True, reviews: dict | None = None) -> ReportFiles:
    """Write ``report.html`` and ``report.pdf`` into ``audit_dir`` and return their paths.

    Parameters:
        lang: ``zh`` (default) or ``en``.
        show_personal_data: show ID numbers, phones and names in full. Off by default: the
            report then shows ID numbers as first 6 + last 4, phones as first 3 + last 4.
        pdf: also print the PDF (WeasyPrint); ``False`` for a quick HTML-only preview.

    Raises:
        InputError: unknown language, or the audit directory or one of its files is unreadable.
    """
    if lang not in LANGS:
        raise InputError(f"unknown report language {lang!r}; use one of {', '.join(LANGS)}")
    audit_dir = Path(audit_dir)
    inputs = load_report_inputs(load_audit_dir(audit_dir))
    if reviews is None:
        from .reviews import read_reviews

        reviews = read_reviews(audit_dir)
    model = build_model(inputs, lang=lang, show_personal_data=show_personal_data, reviews=reviews)
    html = render_html(model)
    html_path = audit_dir / "report.html"
    write_atomic(html_path, html.encode("utf-8"))
    pdf_path = None
    if pdf:
        from weasyprint import HTML

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        pdf_path = audit_dir / "report.pdf"
        write_atomic(pdf_path, HTML(string=html, base_url=str(audit_dir)).write_pdf())
    return ReportFiles(html_path, pdf_path)
