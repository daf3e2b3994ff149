"""The case register: CSV/xlsx round trips, problems in detail, bad rows, formula text, the CLI on a data folder;
典型案例 without personal data and with people blurred; the quarterly bulletin grouped by type."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from examaudit.cases.model import Case, Problem
from examaudit.cases.register import read_register, write_register
from examaudit.cases.sheet import cell
from examaudit.cases.typical import blur_people, bulletin, case_type, typical_case, write_docx, write_markdown
from examaudit.cli import main
from examaudit.errors import InputError
from examaudit.findings import Evidence, Finding, FindingKind, Severity, Source

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_media" / "cases.csv"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_keeps_every_field(tmp_path, suffix):
    reg = read_register(SAMPLE)
    detailed = next(c for c in reg.cases if c.case_id == "ZJ2024-001")
    assert len(detailed.problems) == 5 and detailed.problems[1].done_on == date(2024, 7, 15)
    assert detailed.problems[2].overdue(date(2024, 7, 6)) and not detailed.problems[0].overdue(date(2024, 7, 6))
    out = write_register(reg.cases, tmp_path / f"r{suffix}")
    again = read_register(out)
    assert again.cases == [c.__class__(**{**c.__dict__, "row": a.row}) for c, a in zip(reg.cases, again.cases)]


def test_counts_and_detail_must_agree(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("案件编号,地市,单位类型,单位名称,检查日期,发现问题数\nA1,A市,企业,甲,2024-06-01,3\n", encoding="utf-8")
    (tmp_path / "r.problems.csv").write_text("案件编号,问题描述\nA1,无证上岗\nA1,台账缺失\nB9,孤儿问题\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_register(p)
    assert "row 2, column problems_found" in str(e.value) and "lists 2" in str(e.value) and "'B9'" in str(e.value)


def test_unknown_is_not_zero(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("地市,单位类型,单位名称,检查日期,处理结果\nA市,企业,甲,2024-06-01,罚款\nA市,企业,乙,2024-06-02,无问题\n",
                 encoding="utf-8")
    a, b = read_register(p).cases
    assert a.problems is None and a.fine_wan is None and b.problems == []


def test_formula_text_is_neutralised(tmp_path):
    assert cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")" and cell("-3") == "-3" and cell(2.5) == 2.5
    c = Case("X1", "A市", "", "企业", "=cmd|' /C calc'!A0", date(2024, 6, 1), problems=[])
    out = write_register([c], tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(out)["案件"]
    assert ws["E2"].data_type == "s" and ws["E2"].value.startswith("'=")


def test_cli_import_export_and_form1_from_the_data_folder(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["cases", "import", str(SAMPLE), "--data", str(data)]) == 0
    assert "35 case(s) added" in capsys.readouterr().out
    assert main(["cases", "import", str(SAMPLE), "--data", str(data)]) == 0
    assert "0 case(s) added, 35 updated" in capsys.readouterr().out
    assert main(["cases", "export", str(tmp_path / "x.xlsx"), "--data", str(data)]) == 0
    back = {c.case_id: c for c in read_register(tmp_path / "x.xlsx").cases}
    orig = {c.case_id: c for c in read_register(SAMPLE).cases}
    assert back.keys() == orig.keys()
    assert all(back[k].problems == orig[k].problems and back[k].outcomes == orig[k].outcomes
               and back[k].fine_wan == orig[k].fine_wan for k in orig)
    a = tmp_path / "a.xlsx"
    b = tmp_path / "b.xlsx"
    assert main(["form1", "--month", "2024-06", "--cases", str(SAMPLE), "--out", str(a)]) == 0
    assert main(["form1", "--month", "2024-06", "--data", str(data), "--out", str(b)]) == 0
    wa, wb = openpyxl.load_workbook(a).worksheets[0], openpyxl.load_workbook(b).worksheets[0]
    assert [[c.value for c in r] for r in wa.iter_rows()] == [[c.value for c in r] for r in wb.iter_rows()]
    bad = tmp_path / "bad.csv"
    bad.write_text("地市,单位类型,单位名称,检查日期\nA市,学校,甲,2024-06-01\n", encoding="utf-8")
    assert main(["cases", "import", str(bad), "--data", str(data)]) == 2
    assert "row 2, column unit_type" in capsys.readouterr().err


# -- 典型案例 ------------------------------------------------------------------------------------

NAME, ID, PHONE = "王建国", "330106199001011234", "13812345678"


def _person_frame(path: Path) -> np.ndarray:
    """A public-domain photo of a person (scikit-image's astronaut) on a plain background, as an evidence frame."""
    import cv2
    from skimage import data

    person = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    frame = np.full((540, 960, 3), 200, np.uint8)
    frame[14:526, 224:736] = person
    cv2.imwrite(str(path), frame)
    return frame


def _closed_case(tmp_path: Path) -> tuple[Case, list[Finding]]:
    frames = tmp_path / "audit" / "frames"
    frames.mkdir(parents=True)
    _person_frame(frames / "absent.jpg")
    import hashlib

    sha = hashlib.sha256((frames / "absent.jpg").read_bytes()).hexdigest()
    f1 = Finding.create(kind=FindingKind.absent_candidate, source=Source.video, severity=Severity.high,
                        exam_point="EP-WZ-02", candidate_id="EP-WZ-02-S1-005", confidence=0.9,
                        reason_zh=f"考生EP-WZ-02-S1-005（{NAME}）座位空置45分钟。", reason_en="Seat empty.",
                        evidence=[Evidence(type="frame", path="frames/absent.jpg", sha256=sha)], details={"key": "a"})
    f2 = Finding.create(kind=FindingKind.certificate_without_pass, source=Source.certificates, severity=Severity.high,
                        exam_point="EP-WZ-02", candidate_id="EP-WZ-02-S1-014", confidence=0.9,
                        reason_zh=f"证书持有人身份证号{ID}无合格记录，联系电话{PHONE}。", reason_en="Certificate without pass.",
                        details={"key": "b"})
    case = Case("C-1", "温州市", "鹿城区", "考试机构", "温州某某职业技能鉴定考点", date(2024, 6, 21), ("调看监控视频", "学员电话回访"),
                frozenset({"停业整顿", "罚款"}), 3.0, None, 1,
                [Problem("考生缺考仍发证", [f1.id], done_on=date(2024, 7, 1)), Problem(f"{NAME}代考", [f2.id])],
                "EP-WZ-02", f"考点负责人{NAME}（电话{PHONE}，身份证{ID}）组织替考。", closed_on=date(2024, 7, 20))
    return case, [f1, f2]


def test_typical_case_docx_has_no_personal_data_and_blurs_people(tmp_path):
    case, findings = _closed_case(tmp_path)
    tc = typical_case(case, findings, frames_root=tmp_path / "audit", names=[NAME])
    assert tc.frames and tc.blurred_people >= 1 and tc.quarter == "2024年第3季度"
    docx = write_docx([tc], tmp_path / "t.docx", "典型案例")
    with zipfile.ZipFile(docx) as zf:
        text = re.sub(r"<[^>]+>", "", zf.read("word/document.xml").decode("utf-8"))
        media = [n for n in zf.namelist() if n.startswith("word/media/")]
    for secret in (NAME, ID, PHONE, case.unit_name, "EP-WZ-02-S1-005", "鹿城区"):
        assert secret not in text, secret
    assert "某考试机构" in text and "停业整顿" in text and "罚款3万元" in text and len(media) == 1
    assert not re.search(r"\d{17}[\dXx]|1[3-9]\d{9}", text)
    # the person in the published frame is blurred: far less detail where the photo was
    import cv2

    original = cv2.imread(str(tmp_path / "audit" / "frames" / "absent.jpg"))
    published = cv2.imdecode(np.frombuffer(tc.frames[0][0], np.uint8), cv2.IMREAD_COLOR)
    region = (slice(60, 500), slice(300, 660))
    lap = lambda im: cv2.Laplacian(cv2.cvtColor(im[region], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()  # noqa: E731
    assert lap(published) < 0.2 * lap(original)
    md = write_markdown([tc], tmp_path / "t.md", "典型案例")
    assert NAME not in md.read_text(encoding="utf-8") and (tmp_path / "t_frames" / "01.jpg").is_file()


def test_frame_without_detected_people_is_blurred_whole():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)

    class Nobody:
        def detect(self, image):
            from examaudit.video.detector import Detections

            return Detections.empty()

    out, n = blur_people(noise, Nobody())
    assert n == 0 and out.std() < 0.5 * noise.std()


def test_open_case_is_not_published(tmp_path):
    case, findings = _closed_case(tmp_path)
    with pytest.raises(ValueError, match="not closed"):
        typical_case(case.__class__(**{**case.__dict__, "closed_on": None}), findings)


def test_bulletin_groups_by_type(tmp_path):
    case, findings = _closed_case(tmp_path)
    ent = Case("C-2", "温州市", "", "企业", "温州甲建设公司", date(2024, 7, 2), outcomes=frozenset({"罚款"}), fine_wan=1.0,
               problems=[Problem("2名架子工持假证上岗")], closed_on=date(2024, 8, 1))
    web = Case("C-3", "温州市", "", "企业", "某网络公司", date(2024, 7, 3), outcomes=frozenset({"移送公安机关"}),
               summary="假冒政府网站兜售证书", problems=[], closed_on=date(2024, 8, 2))
    tcs = [typical_case(c, []) for c in (ent, case, web)]
    assert [case_type(c) for c in (ent, case, web)] == ["无证、持假证上岗", "考试弄虚作假", "假冒政府网站和证件"]
    assert [t for t, _ in bulletin(tcs)] == ["考试弄虚作假", "无证、持假证上岗", "假冒政府网站和证件"]
