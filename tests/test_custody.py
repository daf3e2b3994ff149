"""The custody log after an interrupted write: a torn last line is kept and recorded, never hidden."""

from __future__ import annotations

import hashlib
import json

from examaudit.custody import TORN, CustodyLog, check_chain, read_custody


def _torn_log(tmp_path):
    log = CustodyLog(tmp_path / "custody.jsonl")
    log.append("audit started", parameters={"every_s": 5})
    log.append("recording analysed", inputs={"R1-C1.mp4": "ab" * 32})
    whole = log.path.read_bytes()
    torn = b'{"action": "recording analysed", "actor": "au'  # a kill -9 or a full disk mid-append
    log.path.write_bytes(whole + torn)
    return log, whole, torn


def test_a_torn_last_line_is_reported_until_the_next_append_records_it(tmp_path):
    log, whole, torn = _torn_log(tmp_path)
    assert [p for p in check_chain(log.path)] == [
        "custody line 3 is not a whole entry (a torn last line: an interrupted write; the next entry will record it)"]
    assert [e["action"] for e in read_custody(log.path)] == ["audit started", "recording analysed"]

    log.append("audit started", parameters={"every_s": 5})  # the rerun after the crash

    assert check_chain(log.path) == []
    raw = log.path.read_bytes()
    assert raw.startswith(whole + torn + b"\n")  # the torn bytes stay where they were, evidence kept
    entries = read_custody(log.path)
    assert [e["action"] for e in entries] == ["audit started", "recording analysed", TORN, "audit started"]
    record = entries[2]
    assert record["parameters"] == {"torn_sha256": hashlib.sha256(torn).hexdigest(), "torn_bytes": len(torn)}
    # The record chains to the last whole entry; the next entry chains to the record.
    lines = [line for line in raw.split(b"\n") if line]
    assert record["prev_sha256"] == hashlib.sha256(lines[1]).hexdigest()
    assert entries[3]["prev_sha256"] == hashlib.sha256(lines[3]).hexdigest()


def test_a_torn_line_cannot_be_edited_or_passed_off_without_its_record(tmp_path):
    log, whole, torn = _torn_log(tmp_path)
    log.append("audit started")
    raw = log.path.read_bytes()
    edited = raw.replace(torn, torn.replace(b"au", b"xx"))
    log.path.write_bytes(edited)
    assert any("line 3 is not a whole entry" in p for p in check_chain(log.path))

    # A stray non-JSON line in the middle, with no record after it, breaks the chain too.
    lines = whole.split(b"\n")
    log.path.write_bytes(lines[0] + b"\n" + b"garbage\n" + lines[1] + b"\n")
    assert any("line 2 is not a whole entry" in p for p in check_chain(log.path))


def test_a_whole_last_entry_that_lost_only_its_newline_is_closed_not_recorded_as_torn(tmp_path):
    log = CustodyLog(tmp_path / "custody.jsonl")
    log.append("audit started")
    log.path.write_bytes(log.path.read_bytes().rstrip(b"\n"))
    log.append("audit findings merged")
    assert check_chain(log.path) == []
    assert [e["action"] for e in read_custody(log.path)] == ["audit started", "audit findings merged"]
    assert all(json.loads(line) for line in log.path.read_bytes().splitlines())


def test_a_pack_whose_custody_log_recorded_a_torn_line_verifies(tmp_path):
    """examaudit verify reads the pack's copy of the log the same way: a recorded torn line is no alteration."""
    from audit_fixture import build_audit_dir

    from examaudit.report.pack import build_evidence_pack, verify_pack

    audit = build_audit_dir(tmp_path)["audit"]
    log = CustodyLog(audit / "custody.jsonl")
    log.append("audit started")
    log.path.write_bytes(log.path.read_bytes() + b'{"action": "audit findin')  # killed mid-append
    result = verify_pack(build_evidence_pack(audit))  # the pack's own entry records the torn line first
    assert result.ok, result.lines()
    assert TORN in [e["action"] for e in read_custody(log.path)]


def test_a_long_log_chains_and_mends_from_its_tail(tmp_path):
    """Appends read only the end of the log (the server appends one entry per evidence view): past
    the first 64 kB window the chain, and the record of a torn tail, must come out the same."""
    log = CustodyLog(tmp_path / "custody.jsonl")
    for i in range(400):  # about 150 kB, entries of uneven length
        log.append("evidence viewed", inputs={f"frames/{i}.jpg": "ab" * 32}, note="x" * (i % 97))
    assert log.path.stat().st_size > 2 * 65536
    assert check_chain(log.path) == []
    with open(log.path, "ab") as fh:
        fh.write(b'{"action": "evidence viewed", "no')  # a kill mid-append
    log.append("audit started")
    entries = read_custody(log.path)
    assert [e["action"] for e in entries[-2:]] == [TORN, "audit started"]
    assert check_chain(log.path) == []
    assert len(entries) == 402
