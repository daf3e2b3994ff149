"""Screening jobs: the province screen over the exam points the server holds (API, city scope, reuse)."""

from __future__ import annotations

import os

import pytest

from .exam_point_zips import exam_point_zip


def test_screening_ranks_the_audited_exam_points_the_user_sees(server, tmp_path, monkeypatch):
    from examaudit.server.services import jobs as jobs_svc

    admin = server.login("root", "admin")
    server.import_zip(admin, exam_point_zip(tmp_path / "a", "EP-WZ-01", "温州市"))
    server.import_zip(admin, exam_point_zip(tmp_path / "b", "EP-HZ-01", "杭州市"))
    server.run_jobs()  # the two audits
    viewer = server.login("vic", "viewer")
    wz = server.login("wen", "auditor", city="温州市")
    hz = server.login("hang", "auditor", city="杭州市")
    nb = server.login("ning", "auditor", city="宁波市")

    assert server.client.post("/api/v1/screenings", headers=viewer).status_code == 403
    nothing = server.client.post("/api/v1/screenings", headers=nb)  # no exam point in 宁波市
    assert nothing.status_code == 422 and "nothing to screen" in nothing.text

    r = server.client.post("/api/v1/screenings", headers=admin)
    assert r.status_code == 202, r.text
    province = r.json()
    assert province["state"] == "queued" and province["exam_points"] == ["EP-HZ-01", "EP-WZ-01"]
    assert province["ranked"] is None and province["province_records"] == []
    r = server.client.post("/api/v1/screenings", headers=wz)
    assert r.status_code == 202 and r.json()["exam_points"] == ["EP-WZ-01"]
    city_job = r.json()["job"]
    # the view holds links to the import folders, no copies of the footage
    view = server.data_dir / "screenings" / str(province["job"]) / "province" / "exam_points"
    assert sorted(p.name for p in view.iterdir()) == ["EP-HZ-01", "EP-WZ-01"]
    assert all(p.is_symlink() and not os.path.isabs(os.readlink(p)) for p in view.iterdir())  # restorable elsewhere
    assert all((p / "exam_point.yaml").is_file() for p in view.iterdir())

    values: dict[int, list[float]] = {}
    real = jobs_svc._Progress.__call__

    def record(self, value, message=None, force=False):
        real(self, value, message, force=True)
        values.setdefault(self.job_id, []).append(self._value)

    monkeypatch.setattr(jobs_svc._Progress, "__call__", record)
    server.run_jobs()

    done = server.client.get(f"/api/v1/screenings/{province['job']}", headers=admin).json()
    assert done["state"] == "done" and done["progress"] == 1.0, done
    # each exam point's finished recording came from its audit: nothing analysed again
    assert "analysed 0, reused 2" in done["message"], done["message"]
    seen = values[province["job"]]  # recording by recording, then each stage: never backwards
    assert len(seen) > 3 and seen == sorted(seen) and any(0 < v < 1 for v in seen), seen
    rows = done["ranked"]
    assert sorted(r["exam_point"] for r in rows) == ["EP-HZ-01", "EP-WZ-01"]
    assert [int(r["rank"]) for r in rows] == [1, 2] and all(float(r["risk"]) >= 0 for r in rows)
    assert all(int(r["findings"]) >= 1 for r in rows)  # the 3 s cut in each clip
    assert set(done["files"]) == {"screening.html", "exam_points.csv", "screening.xlsx"}  # no PDF in fast mode
    csv = server.client.get(f"/api/v1/screenings/{province['job']}/exam_points.csv", headers=admin)
    assert csv.status_code == 200 and "EP-HZ-01" in csv.text and "EP-WZ-01" in csv.text
    html = server.client.get(f"/api/v1/screenings/{province['job']}/screening.html", headers=viewer)
    assert html.status_code == 200 and "EP-WZ-01" in html.text
    assert server.client.get(f"/api/v1/screenings/{province['job']}/screening.pdf", headers=admin).status_code == 404
    assert server.client.get(f"/api/v1/jobs/{province['job']}", headers=admin).json()["kind"] == "screening"

    # city scope: the province's run (with 杭州市 in it) and another city's run are 404s
    for path in ("", "/exam_points.csv", "/screening.html", "/screening.xlsx"):
        assert server.client.get(f"/api/v1/screenings/{province['job']}{path}", headers=wz).status_code == 404
        assert server.client.get(f"/api/v1/screenings/{city_job}{path}", headers=hz).status_code == 404
    assert server.client.get(f"/api/v1/jobs/{province['job']}", headers=wz).status_code == 404
    mine = server.client.get(f"/api/v1/screenings/{city_job}", headers=wz).json()
    assert mine["state"] == "done" and [r["exam_point"] for r in mine["ranked"]] == ["EP-WZ-01"]
    assert "EP-HZ-01" not in server.client.get(f"/api/v1/screenings/{city_job}/exam_points.csv", headers=wz).text
    # an audit job's id is not a screening
    assert server.client.get("/api/v1/screenings/1", headers=admin).status_code == 404

    # the pages: the dashboard's button starts one, its page shows progress, then the ranking
    csrf = server.cookie_login("pat", "auditor")
    assert 'data-testid="start-screening"' in server.client.get("/").text
    r = server.client.post("/screenings", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/screenings/"), r.text
    page = r.headers["location"]
    assert 'data-state="queued"' in server.client.get(page).text
    server.run_jobs()
    html = server.client.get(page).text
    assert 'id="screening-ranked"' in html and 'data-exam-point="EP-HZ-01"' in html and "exam_points.csv" in html
    assert f'href="{page}"' in server.client.get(f"/jobs/{page.rsplit('/', 1)[1]}/progress").text
    assert server.client.post("/screenings", data={}, follow_redirects=False).status_code == 403  # no CSRF token
    assert f'href="{page}"' in server.client.get("/admin/jobs").text  # the job list shows screenings too
    server.cookie_login("wan", "viewer", city="温州市")
    jobs = server.client.get("/admin/jobs").text
    assert f'href="/screenings/{city_job}"' in jobs and f'href="{page}"' not in jobs  # not the province's


def test_jobs_of_an_older_database_survive_the_screening_migration(tmp_path, server_factory, test_db):
    """0003 makes jobs.exam_point_id nullable (SQLite: a batch table copy): the audit jobs stay."""
    from datetime import datetime, timezone

    from sqlalchemy import create_engine, text

    from examaudit.server.db import current_heads, migrate
    from examaudit.server.models import Job

    url = test_db or f"sqlite:///{tmp_path / 'data' / 'examaudit.db'}"  # test_db: PostgreSQL, when testing it
    (tmp_path / "data").mkdir()
    migrate(url, "0002_audits")
    at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO exam_points (code, name, city, config_path, created_at, created_by) "
                          "VALUES ('EP-OLD', '', '温州市', 'x/exam_point.yaml', :at, 'old')"), {"at": at})
        conn.execute(text("INSERT INTO jobs (exam_point_id, kind, config_path, state, progress, message, "
                          "created_by, created_at) VALUES (1, 'audit', 'x/exam_point.yaml', 'done', 1.0, 'ok', "
                          "'old', :at)"), {"at": at})
    engine.dispose()
    srv = server_factory(data_dir=tmp_path / "data")
    assert "0002_audits" not in current_heads(url)  # upgraded through 0003 (and whatever follows it)
    with srv.db.session() as s:
        old = s.query(Job).one()
        assert (old.exam_point_id, old.kind, old.city, old.state) == (1, "audit", None, "done")
        s.add(Job(exam_point_id=None, kind="screening", city=None, config_path="screenings/2", state="cancelled",
                  progress=0.0, message="", created_by="t"))


def test_a_province_records_set_is_one_export_shared_by_every_exam_point(tmp_path):
    """records/ is laid out only when each exam point with records holds the same files."""
    from examaudit.server.services.screenings import _province_records

    from .exam_point_zips import YAML

    shared = tmp_path / "records"
    shared.mkdir()
    (shared / "roster.csv").write_text("candidate_id\nA1\n", encoding="utf-8")
    (shared / "scores.csv").write_text("candidate_id,score\nA1,90\n", encoding="utf-8")
    own = tmp_path / "own"
    own.mkdir()
    (own / "roster.csv").write_text("candidate_id\nB1\n", encoding="utf-8")
    (own / "scores.csv").write_text("candidate_id,score\nB1,80\n", encoding="utf-8")

    def folder(code: str, records: str | None) -> object:
        d = tmp_path / code
        d.mkdir()
        text = YAML.format(code=code, city="温州市")
        if records:
            text += f"records:\n  roster: ../{records}/roster.csv\n  scores: ../{records}/scores.csv\n"
        (d / "exam_point.yaml").write_text(text, encoding="utf-8")
        return d / "exam_point.yaml"

    a, b, c, d = folder("EP-A", "records"), folder("EP-B", "records"), folder("EP-C", None), folder("EP-D", "own")
    found = _province_records(None, [a, b, c])  # EP-C has no records: the export still covers A and B
    assert sorted(found) == ["roster", "scores"] and found["roster"].resolve() == (shared / "roster.csv").resolve()
    assert _province_records(None, [a, d]) == {}  # each its own export: no province-wide set
    assert _province_records(None, [c]) == {}


@pytest.mark.slow
def test_sample_media_screening_uses_the_shared_province_records(server, tmp_path):
    """The two sample exam points share sample_media/records: the screening fuses video and records."""
    import io
    import zipfile
    from pathlib import Path

    media = Path(__file__).resolve().parents[2] / "sample_media"
    admin = server.login("root", "admin")
    for code in ("EP-HZ-01", "EP-WZ-02"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in sorted((media / code).rglob("*")) + sorted((media / "records").glob("*.csv")):
                if p.is_file():
                    zf.write(p, p.relative_to(media).as_posix())
        server.import_zip(admin, buf.getvalue())
    server.run_jobs()
    r = server.client.post("/api/v1/screenings", headers=admin)
    assert r.status_code == 202 and sorted(r.json()["province_records"]) == [
        "callbacks", "certificates", "responses", "roster", "scores"], r.text
    server.run_jobs()
    done = server.client.get(f"/api/v1/screenings/{r.json()['job']}", headers=admin).json()
    assert done["state"] == "done" and "analysed 0" in done["message"], done
    rows = {row["exam_point"]: row for row in done["ranked"]}
    assert {"EP-HZ-01", "EP-WZ-02"} <= set(rows)
    assert all(rows[c]["p_records"] and rows[c]["p_video"] for c in ("EP-HZ-01", "EP-WZ-02")), rows
