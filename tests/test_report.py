"""The audit report: self-contained HTML, a PDF with visible Chinese text, masked personal data."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import numpy as np
import pytest
from audit_fixture import FULL_ID, FULL_PHONE, build_audit_dir

from examaudit.report.pack import build_evidence_pack
from examaudit.report.render import render_report

PDFTOPPM = shutil.which("pdftoppm")


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    return build_audit_dir(tmp_path_factory.mktemp("report"))["audit"]


@pytest.fixture(scope="module")
def rendered(audit):
    return render_report(audit)  # zh, masked, with PDF


def test_html_is_self_contained_and_complete(rendered):
    html = rendered.html_path.read_text(encoding="utf-8")
    assert "<script" not in html
    srcs = re.findall(r'src="([^"]*)"', html)
    assert srcs and all(s.startswith("data:") for s in srcs), "every picture is embedded"
    assert "image/svg+xml" in html and "image/jpeg" in html  # charts and evidence frames
    for heading in ("审计结论", "录像覆盖情况", "发现的问题", "考位占用情况", "考试记录分析", "处理建议", "审核签字", "方法与参数"):
        assert heading in html, heading
    assert "高风险" in html and "移送公安机关" in html and "停业整改" in html
    assert "2024-06-20 09:00:03" in html  # wall clock of the gap finding
    assert "similarity_threshold" in html  # run parameters in the appendix


def test_personal_data_masked_by_default(rendered):
    html = rendered.html_path.read_text(encoding="utf-8")
    assert FULL_ID not in html and FULL_PHONE not in html
    assert "110105********002X" in html and "138****5678" in html
    assert "考生00" not in html  # names show the family name only


def test_personal_data_in_full_only_with_the_flag(audit, tmp_path):
    work = tmp_path / "a"
    shutil.copytree(audit, work)
    files = render_report(work, show_personal_data=True, pdf=False)
    html = files.html_path.read_text(encoding="utf-8")
    assert FULL_ID in html and FULL_PHONE in html and "仅限执法使用" in html


def test_english_report(audit, tmp_path):
    work = tmp_path / "a"
    shutil.copytree(audit, work)
    html = render_report(work, lang="en", pdf=False).html_path.read_text(encoding="utf-8")
    assert "Exam-point audit report" in html and "Footage gap" in html and "Refer to the police" in html
    assert FULL_ID not in html


def test_missing_sections_say_not_provided(tmp_path):
    root = build_audit_dir(tmp_path)["audit"]
    for p in ("records/summary.json", "video/C1/R1-C1/seats.csv", "video/C1/R1-C1/coverage.json"):
        (root / p).unlink()
    shutil.rmtree(root / "video" / "C1" / "R1-C1" / "frames")
    html = render_report(root, pdf=False).html_path.read_text(encoding="utf-8")
    assert html.count("未提供") >= 5
    assert "证据图片缺失" in html
    assert "据抽样估算" in html  # session coverage estimated from samples when coverage.json is absent


def test_bare_directory_renders(tmp_path):
    html = render_report(tmp_path, pdf=False).html_path.read_text(encoding="utf-8")
    assert "本次审计未分析录像" in html and "未发现异常" in html


def _dark_fraction(png) -> float:
    import cv2

    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    return float(np.mean(img < 128))


def test_pdf_pages_show_chinese_text(rendered, tmp_path):
    if PDFTOPPM is None:
        pytest.skip("pdftoppm is absent: install poppler-utils (apt-get install poppler-utils)")
    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        pytest.skip("no Chinese font installed (apt-get install fonts-wqy-microhei or fonts-noto-cjk)")
    pdf = rendered.pdf_path
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run([PDFTOPPM, "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 3
    fractions = [_dark_fraction(p) for p in pages]
    assert all(f > 0.003 for f in fractions), fractions  # no blank page (a blank page is 0)
    # The Chinese came out as glyphs of a CJK font, not as boxes from a Latin fallback.
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "考点审计报告" in text and "审计结论" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert any("DejaVu" not in line for line in fonts), fonts
    # the title band of page 1 has ink: text is drawn, not just encoded
    import cv2

    top = cv2.imread(str(pages[0]), cv2.IMREAD_GRAYSCALE)[: top_rows(pages[0])]
    assert np.mean(top < 128) > 0.002


def top_rows(png) -> int:
    import cv2

    return cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).shape[0] // 5


def test_report_goes_into_the_pack(audit, rendered):
    pack = build_evidence_pack(audit)
    names = zipfile.ZipFile(pack).namelist()
    assert "evidence_pack/data/report.html" in names and "evidence_pack/data/report.pdf" in names
