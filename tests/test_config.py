from pathlib import Path

import pytest

from examaudit.config import load_exam_point
from examaudit.errors import InputError

GOOD = """
exam_point: EP-T-01
city: 杭州市
sessions:
  - {id: S1, start: "2024-06-20 09:00", end: "2024-06-20 10:30"}
rooms:
  - id: R1
    cameras:
      - id: C1
        footage: [footage/R1-C1.mp4]
        invigilator_zone: [[0, 0], [100, 0], [100, 50]]
        seats:
          - {seat: "01", polygon: [[10, 10], [50, 10], [50, 50], [10, 50]], candidate_id: A1}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "exam_point.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_config_loads_and_resolves(tmp_path):
    cfg = load_exam_point(write(tmp_path, GOOD))
    room, cam = cfg.camera("C1")
    assert room.id == "R1" and cam.seats[0].candidate_id == "A1"
    assert cfg.resolve(cam.footage[0]) == (tmp_path / "footage" / "R1-C1.mp4").resolve()
    assert cfg.aware(cfg.sessions[0].start).utcoffset().total_seconds() == 8 * 3600


@pytest.mark.parametrize(
    "edit, expect",
    [
        (("[10, 10], [50, 10], [50, 50], [10, 50]", "[10, 10], [50, 10]"), "rooms[0].cameras[0].seats[0].polygon"),
        (("10:30", "08:30"), "sessions[0]"),
        (("exam_point: EP-T-01", "exam_point: EP-T-01\ncolour: red"), "colour"),
        (("city: 杭州市", "timezone: Mars/Olympus"), "unknown time zone"),
        (("footage: [footage/R1-C1.mp4]", "footage: [footage/R1-C1.mp4]\n        invigilators_allowed: -1"), "invigilators_allowed"),
    ],
)
def test_errors_name_file_key_and_problem(tmp_path, edit, expect):
    p = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(InputError) as err:
        load_exam_point(p)
    assert str(p) in str(err.value) and expect in str(err.value)


def test_yaml_syntax_error_names_line(tmp_path):
    with pytest.raises(InputError, match=r"line \d+"):
        load_exam_point(write(tmp_path, "rooms: [\n  - id: R1\n bad"))


def test_unknown_camera(tmp_path):
    cfg = load_exam_point(write(tmp_path, GOOD))
    with pytest.raises(InputError, match="C9"):
        cfg.camera("C9")
