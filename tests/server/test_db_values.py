"""Values a column cannot hold are the client's 422 on SQLite and PostgreSQL alike (db.py).

PostgreSQL enforces String(n), refuses NUL in text and keeps Integer in int4: each was an internal
error (500) there, where SQLite stored the value as given.
"""

from __future__ import annotations

import pytest

from examaudit.server.db import ValueDoesNotFit, refuse_what_does_not_fit
from examaudit.server.models import ExamPoint

HEAD = "案件编号,地市,区县,单位类型,单位名称,考点编号,检查日期,检查方式,处理结果,罚款金额(万元)," \
       "查出无证假证人员数(人),移交涉嫌犯罪线索数(项),发现问题数(项),完成整改问题数(项),案情摘要,文书,结案日期\n"


def _register(unit_name: str, persons: str = "") -> bytes:
    return (HEAD + f"ZJ2024-901,杭州市,西湖区,考试机构,{unit_name},,2024-06-05,明查暗访,限期整改,,{persons},0,1,0,摘要,,\n"
            ).encode()


@pytest.mark.parametrize("unit_name, persons, says", [
    ("甲" * 300, "", "cases.unit_name: 300 characters, at most 255 fit"),
    ("甲", str(2**40), "cases.unlicensed_persons: 1099511627776 is out of range"),
])
def test_a_value_its_column_cannot_hold_is_422_and_nothing_is_written(server, unit_name, persons, says):
    h = server.login("prov", "auditor")
    r = server.client.post("/api/v1/cases/import", headers=h,
                           files={"file": ("r.csv", _register(unit_name, persons), "text/csv")})
    assert r.status_code == 422 and says in r.json()["detail"], r.text
    assert server.client.get("/api/v1/cases", headers=h).json() == []
    ok = server.client.post("/api/v1/cases/import", headers=h, files={"file": ("r.csv", _register("甲" * 255), "text/csv")})
    assert ok.status_code == 200 and ok.json()["added"] == 1, ok.text


def test_the_check_reads_each_columns_own_limit():
    refuse_what_does_not_fit(ExamPoint(code="E" * 64, config_path="p", created_by="a", findings_count=2**31 - 1))
    for bad in (ExamPoint(code="E" * 65, config_path="p", created_by="a"),
                ExamPoint(code="E", name="甲\x00乙", config_path="p", created_by="a"),  # a register refuses NUL before
                ExamPoint(code="E", config_path="p", created_by="a", findings_count=2**31)):
        with pytest.raises(ValueDoesNotFit):
            refuse_what_does_not_fit(bad)
