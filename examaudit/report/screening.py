"""The province summary of a screening run: ``screening.html`` / ``.pdf``, ``exam_points.csv``
and ``screening.xlsx``.

Reads nothing but the :class:`~examaudit.screen.ScreeningResult` it is given; decides nothing
(the ranking is :func:`examaudit.screen.rank_province`'s).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..findings import KIND_TITLES, FindingKind, now_utc
from ..outputs import neutralise, write_atomic, write_csv
from .i18n import tr
from .render import TEMPLATES

if TYPE_CHECKING:
    from ..screen import RankedExamPoint, ScreeningResult

#: exam_points.csv: the issue's columns first, then the numbers behind them.
CSV_COLUMNS = ["exam_point", "city", "risk", "q_value", "rank", "reasons", "findings", "findings_by_kind",
               "footage_hours", "coverage", "level", "p_value", "p_video", "p_records", "evidence", "report"]

_S: dict[str, tuple[str, str]] = {
    "title": ("考点筛查汇总（全省）", "Province-wide exam-point screening"),
    "generated": ("生成时间", "Generated"),
    "executor": ("运行方式", "Run on"),
    "totals": ("总览", "Overview"),
    "n_points": ("考点数", "Exam points"),
    "n_footage": ("有录像的考点", "with footage"),
    "n_records_only": ("仅有记录的考点", "records only"),
    "hours": ("录像时长（小时）", "Footage (hours)"),
    "recordings": ("录像文件：分析 {analysed}，复用 {reused}，无法读取 {failed}",
                   "Recordings: analysed {analysed}, reused {reused}, unreadable {failed}"),
    "ranking": ("考点风险排名", "Exam points ranked by risk"),
    "rank": ("排名", "Rank"), "exam_point": ("考点", "Exam point"), "city": ("地市", "City"),
    "level": ("风险等级", "Risk level"), "q": ("q 值", "q-value"), "reasons": ("主要原因", "Main reasons"),
    "counts": ("发现（按类别）", "Findings by kind"), "coverage": ("场次录像覆盖", "Session coverage"),
    "source": ("依据", "Evidence"), "report": ("报告", "Report"),
    "video_records": ("录像+记录", "footage + records"), "records_only": ("仅记录（未提交录像）", "records only (no footage)"),
    "video_only": ("仅录像", "footage only"),
    "by_city": ("按地市汇总", "By city"), "unknown_city": ("（记录中未注明地市）", "(city not in the records)"),
    "n_high": ("高风险", "High"), "n_medium": ("中风险", "Medium"), "mean_cov": ("平均覆盖", "Mean coverage"),
    "problems": ("输入问题", "Input problems"), "errors": ("未完成的考点", "Exam points not completed"),
    "method": ("方法", "Method"),
    "method_text": (
        "每个考点的录像发现按严重程度折算为证据强度（严重 1e-4、高 1e-3、中 1e-2、低 0.1，按置信度取幂），"
        "每类取最强者，以调和平均 p 值合并；再与考试记录筛查的合并 p 值以调和平均 p 值合并（对任意相关性有效）。"
        "全省用 Benjamini-Hochberg 控制错误发现率（FDR {fdr:g}）：q ≤ {fdr_high:g} 为高风险，q ≤ {fdr:g} 为中风险，"
        "p < 0.05 为低风险。对中风险及以上的考点采取行动时，误报比例的期望不超过 {fdr:g}。"
        "录像证据强度是设定的权重，不是统计估计。",
        "Each exam point's video findings count as evidence by severity (critical 1e-4, high 1e-3, medium 1e-2, "
        "low 0.1, raised to the finding's confidence); the strongest of each kind are combined by the harmonic-mean "
        "p-value, then with the records screens' combined p-value the same way (valid under any dependence). "
        "Benjamini-Hochberg controls the false discovery rate across the province (FDR {fdr:g}): q ≤ {fdr_high:g} "
        "is high risk, q ≤ {fdr:g} medium, p < 0.05 low. Acting on every exam point at medium or above keeps the "
        "expected share of false alarms at or below {fdr:g}. The video evidence weights are stated, not estimated."),
}


def _t(key: str, lang: str, **kw: Any) -> str:
    pair = _S.get(key)
    if pair is None:
        return tr(key, lang, **kw)
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**kw) if kw else text


def _kind_title(kind: str, lang: str) -> str:
    try:
        zh, en = KIND_TITLES[FindingKind(kind)]
    except (ValueError, KeyError):
        return kind
    return zh if lang == "zh" else en


def _evidence(r: "RankedExamPoint") -> str:
    s = r.score
    if not s.has_footage:
        return "records_only"
    return "video_records" if s.p_records is not None else "video_only"


@dataclass
class CityRow:
    city: str
    points: int
    with_footage: int
    records_only: int
    high: int
    medium: int
    hours: float
    coverage: float | None


def city_rows(ranked: list["RankedExamPoint"], lang: str) -> list[CityRow]:
    by: dict[str, list[RankedExamPoint]] = {}
    for r in ranked:
        by.setdefault(r.score.city or _t("unknown_city", lang), []).append(r)
    out = []
    for city, rs in sorted(by.items()):
        covs = [r.score.coverage for r in rs if r.score.coverage is not None]
        out.append(CityRow(city, len(rs), sum(r.score.has_footage for r in rs), sum(not r.score.has_footage for r in rs),
                           sum(r.level == "risk_high" for r in rs), sum(r.level == "risk_medium" for r in rs),
                           round(sum(r.score.footage_hours for r in rs), 2), sum(covs) / len(covs) if covs else None))
    return out


def csv_rows(ranked: list["RankedExamPoint"]) -> list[dict[str, Any]]:
    rows = []
    for r in ranked:
        s = r.score
        rows.append({
            "exam_point": s.exam_point, "city": s.city, "risk": f"{r.risk:.4f}", "q_value": f"{r.q_value:.4g}",
            "rank": r.rank,
            # one cell, Chinese first then English, as records/exam_points.csv does
            "reasons": "；".join(s.reasons_zh) + (" | " + "; ".join(s.reasons_en) if s.reasons_en else ""),
            "findings": sum(s.counts_by_kind.values()),
            "findings_by_kind": "; ".join(f"{k}:{n}" for k, n in s.counts_by_kind.items()),
            "footage_hours": f"{s.footage_hours:.3f}",
            "coverage": "" if s.coverage is None else f"{s.coverage:.4f}",
            "level": r.level.removeprefix("risk_"), "p_value": f"{s.p_value:.4g}",
            "p_video": "" if s.p_video is None else f"{s.p_video:.4g}",
            "p_records": "" if s.p_records is None else f"{s.p_records:.4g}",
            "evidence": _evidence(r), "report": r.report or "",
        })
    return rows


def write_xlsx(ranked: list["RankedExamPoint"], cities: list[CityRow], path: Path, lang: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "考点排名" if lang == "zh" else "Exam points"
    ws.append(CSV_COLUMNS)
    for row in csv_rows(ranked):
        ws.append([_number(row[c]) for c in CSV_COLUMNS])
    ws2 = wb.create_sheet("按地市" if lang == "zh" else "By city")
    ws2.append(["city", "exam_points", "with_footage", "records_only", "high", "medium", "footage_hours", "coverage"])
    for c in cities:
        ws2.append([neutralise(c.city), c.points, c.with_footage, c.records_only, c.high, c.medium, c.hours, c.coverage])
    for sheet in (ws, ws2):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    tmp = path.with_name(f".{path.name}.partial")
    wb.save(tmp)
    tmp.replace(path)


def _number(v: Any) -> Any:
    """A cell: numbers as numbers; text (exam point names and cities come from input files)
    through the one formula neutraliser."""
    if isinstance(v, str):
        try:
            return int(v) if v.isdigit() else float(v) if v and v[0] in "0123456789.-" else neutralise(v)
        except ValueError:
            return neutralise(v)
    return neutralise(v)


def render_screening_html(result: "ScreeningResult", lang: str, fdr: float = 0.10) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "—" if v is None or v != v else f"{100 * float(v):.1f}%"
    ranked = result.ranked
    counts = result.counts()
    return env.get_template("screening.html.j2").render(
        t=lambda key, **kw: _t(key, lang, **kw), lang=lang, ranked=ranked, cities=city_rows(ranked, lang),
        evidence=_evidence, kind_title=lambda k: _kind_title(k, lang),
        reasons=lambda r: r.score.reasons_zh if lang == "zh" else r.score.reasons_en,
        problems=[str(p) for p in result.problems] + [str(p) for ps in result.plan.rejected.values() for p in ps]
        + [f"{name}: {tr('not_provided', lang)}" for name, ps in result.plan.rejected.items() if not ps],
        errors=sorted(result.errors.items()), counts=counts, hours=round(result.plan.hours, 2),
        n_footage=sum(r.score.has_footage for r in ranked), n_records_only=sum(not r.score.has_footage for r in ranked),
        generated=now_utc().isoformat(timespec="seconds"), executor=result.executor or "", fdr=fdr, fdr_high=fdr / 10,
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
    )


def write_screening(result: "ScreeningResult", out_dir: str | Path, *, lang: str = "zh", pdf: bool = True,
                    fdr: float = 0.10) -> dict[str, Path]:
    """Write the province summary files into ``out_dir``; returns them by kind."""
    out = Path(out_dir)
    files = {"csv": out / "exam_points.csv", "xlsx": out / "screening.xlsx", "html": out / "screening.html"}
    tmp = files["csv"].with_name(".exam_points.csv.partial")
    write_csv(tmp, csv_rows(result.ranked), CSV_COLUMNS)
    tmp.replace(files["csv"])
    write_xlsx(result.ranked, city_rows(result.ranked, lang), files["xlsx"], lang)
    html = render_screening_html(result, lang, fdr)
    write_atomic(files["html"], html.encode("utf-8"))
    if pdf:
        from weasyprint import HTML

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        files["pdf"] = out / "screening.pdf"
        write_atomic(files["pdf"], HTML(string=html, base_url=str(out)).write_pdf())
    return files
