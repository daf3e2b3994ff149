"""The province dashboard (考点风险总览): every exam point the user may see, ranked by risk."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from ...report.reviews import ReviewDecision
from ..models import Job, Review
from ..pageviews import dashboard_row
from ..security import Principal, current_user
from ..services.exam_points import visible_exam_points
from ..services.jobs import job_view
from ..services.reviews import findings_of
from .pages_common import lang_of, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def dashboard_rows(request: Request, user: Principal, lang: str) -> list[dict]:
    settings = request.app.state.settings
    with request.app.state.db.session() as s:
        eps = visible_exam_points(s, user)
        ids = [ep.id for ep in eps]
        reviews: dict[int, dict[str, ReviewDecision]] = {i: {} for i in ids}
        for r in s.scalars(select(Review).where(Review.exam_point_id.in_(ids))):
            reviews[r.exam_point_id][r.finding_id] = ReviewDecision(r.finding_id, r.decision, r.comment, r.by,
                                                                    r.at.isoformat())
        # Only each exam point's newest job: every audit adds one, and the page is the one everybody opens.
        newest = select(func.max(Job.id)).where(Job.exam_point_id.in_(ids)).group_by(Job.exam_point_id)
        latest = {j.exam_point_id: job_view(j) for j in s.scalars(select(Job).where(Job.id.in_(newest)))}
        rows = [dashboard_row(ep.code, ep.name, ep.city, findings_of(settings, ep.code), reviews[ep.id],
                              latest.get(ep.id), lang, user.sees_personal_data) for ep in eps]
    rows.sort(key=lambda r: (-(r["risk_score"] if r["audited"] else -1), r["q_value"] if r["q_value"] is not None else 9,
                             r["code"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


@router.get("/")
def dashboard(request: Request, city: str = "", risk: str = "", status: str = "", q: str = "",
              user: Principal = Depends(current_user)):
    lang = lang_of(request)
    rows = dashboard_rows(request, user, lang)
    cities = sorted({r["city"] for r in rows if r["city"]})
    shown = [r for r in rows
             if (not city or r["city"] == city)
             and (not risk or (r["audited"] and r["risk_level"] == risk))
             and (not status or r["review_status"] == status)
             and (not q or q.lower() in (r["code"] + " " + (r["name"] or "")).lower())]
    return render(request, "pages/dashboard.html.j2",
                  {"rows": shown, "cities": cities, "filters": {"city": city, "risk": risk, "status": status, "q": q}},
                  user, nav="dashboard")
