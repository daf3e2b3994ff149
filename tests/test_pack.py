"""Evidence pack: a valid BagIt bag, stream-copied clips, and verify naming any altered file."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import av
import bagit
import pytest
from audit_fixture import build_audit_dir

from examaudit.cli import main
from examaudit.custody import check_chain, read_custody
from examaudit.report.clips import cut_clip, packet_digest
from examaudit.report.pack import BAG_DIR, build_evidence_pack, verify_pack


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    d = build_audit_dir(root)
    pack = build_evidence_pack(d["audit"])
    return {**d, "pack": pack, "root": root}


def _unzip(pack: Path, dest: Path) -> Path:
    with zipfile.ZipFile(pack) as zf:
        zf.extractall(dest)
    return dest / BAG_DIR


def _rezip(bag: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for p in sorted(bag.rglob("*")):
            if p.is_file():
                zf.write(p, f"{BAG_DIR}/{p.relative_to(bag).as_posix()}")
    return dest


def test_pack_is_a_valid_bag_with_everything(packed, tmp_path):
    bag_dir = _unzip(packed["pack"], tmp_path)
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises on any problem
    assert "sha256" in bag.algorithms
    data = bag_dir / "data"
    for name in ("findings.json", "custody.jsonl", "originals.json", "clips.json", "evidence.csv", "audit.json"):
        assert (data / name).is_file(), name
    assert list((data / "video").rglob("*.jpg")), "evidence frames are packed"
    originals = json.loads((data / "originals.json").read_text(encoding="utf-8"))
    meta = json.loads((packed["audit"] / "audit.json").read_text(encoding="utf-8"))
    assert originals[0]["sha256"] == meta["recordings"][0]["sha256"]
    assert originals[0]["probe"]["video"]["codec"] == "h264"
    # the packing step is in the custody log, chained, with tool version and parameters
    entries = read_custody(data / "custody.jsonl")
    assert entries[-1]["action"] == "pack" and entries[-1]["tool_version"]
    assert "max_clip_s" in entries[-1]["parameters"]
    assert check_chain(data / "custody.jsonl") == []
    assert (packed["audit"] / "evidence_pack.zip.sha256").read_text().split()[1] == "evidence_pack.zip"


def test_clips_are_stream_copies_of_the_original(packed, tmp_path):
    data = _unzip(packed["pack"], tmp_path) / "data"
    clips = json.loads((data / "clips.json").read_text(encoding="utf-8"))
    assert clips, "the footage gap finding gets a clip"
    for c in clips:
        path = data / c["clip"]
        with av.open(str(path)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == c["packets"] > 0
        assert c["first_keyframe_s"] <= c["start_s"] and c["last_s"] <= c["end_s"] + 1e-6
        n_clip, h_clip = packet_digest(path)
        n_orig, h_orig = packet_digest(packed["original"], c["first_pts"], c["last_pts"])
        assert (n_clip, h_clip) == (n_orig, h_orig) == (c["packets"], c["packets_sha256"])


def test_clip_starts_at_the_keyframe_at_or_before_start(packed, tmp_path):
    info = cut_clip(packed["original"], tmp_path / "c.mp4", 2.5, 3.2)  # GOP 1 s: keyframe at 2.0 s
    assert info.first_keyframe_s == pytest.approx(2.0) and info.last_s == pytest.approx(3.2)
    with av.open(str(tmp_path / "c.mp4")) as c:
        first = next(c.demux(video=0))
        assert first.is_keyframe
    with av.open(str(packed["original"])) as c:
        orig = [bytes(p) for p in c.demux(video=0) if p.size and p.pts is not None]
    with av.open(str(tmp_path / "c.mp4")) as c:
        clip = [bytes(p) for p in c.demux(video=0) if p.size]
    assert clip == orig[20:33]  # 10 fps: frames 2.0 s .. 3.2 s


def test_verify_intact_pack(packed, capsys):
    result = verify_pack(packed["pack"])
    assert result.ok and result.files_checked >= 8
    assert main(["verify", str(packed["pack"])]) == 0
    assert "intact" in capsys.readouterr().out


def _pick(data: Path, which: str) -> Path:
    return {
        "frame": lambda: sorted((data / "video").rglob("*.jpg"))[0],
        "findings": lambda: data / "findings.json",
        "custody": lambda: data / "custody.jsonl",
        "clip": lambda: sorted((data / "clips").iterdir())[0],
        "originals": lambda: data / "originals.json",
    }[which]()


@pytest.mark.parametrize("which", ["frame", "findings", "custody", "clip", "originals"])
def test_one_changed_byte_is_named(packed, tmp_path, capsys, which):
    bag = _unzip(packed["pack"], tmp_path / "x")
    target = _pick(bag / "data", which)
    raw = bytearray(target.read_bytes())
    i = len(raw) // 2
    raw[i] = (raw[i] + 1) % 256 if raw[i] not in (10, 13) else raw[i]
    if raw == target.read_bytes():
        raw[i - 1] = (raw[i - 1] + 1) % 256
    target.write_bytes(bytes(raw))
    rel = target.relative_to(bag).as_posix()
    tampered = _rezip(bag, tmp_path / "tampered.zip")
    result = verify_pack(tampered)
    assert not result.ok and rel in result.changed
    assert main(["verify", str(tampered)]) == 1
    assert rel in capsys.readouterr().err


def test_byte_changed_inside_the_zip_is_named(packed, tmp_path):
    raw = bytearray(packed["pack"].read_bytes())
    with zipfile.ZipFile(packed["pack"]) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(".jpg"))
    # local header is 30 bytes + name + extra; flip a byte in the stored data
    off = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    raw[off] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    result = verify_pack(bad)
    assert not result.ok and info.filename[len(BAG_DIR) + 1:] in result.changed


def test_removed_and_added_files_are_named(packed, tmp_path):
    bag = _unzip(packed["pack"], tmp_path / "x")
    frame = _pick(bag / "data", "frame")
    frame.unlink()
    (bag / "data" / "extra.txt").write_text("planted", encoding="utf-8")
    result = verify_pack(_rezip(bag, tmp_path / "t.zip"))
    assert frame.relative_to(bag).as_posix() in result.missing
    assert "data/extra.txt" in result.unexpected


@pytest.mark.parametrize("content", [None, b"", b"not a zip at all"])
def test_unreadable_input_exits_2(tmp_path, content, capsys):
    p = tmp_path / "p.zip"
    if content is not None:
        p.write_bytes(content)
    assert main(["verify", str(p)]) == 2
    assert str(p) in capsys.readouterr().err


def test_pack_refuses_an_original_that_changed(packed, tmp_path):
    audit = tmp_path / "audit"
    shutil.copytree(packed["audit"], audit)
    fake = tmp_path / packed["original"].name
    fake.write_bytes(packed["original"].read_bytes() + b"\0")
    from examaudit.errors import InputError

    with pytest.raises(InputError, match="differs"):
        build_evidence_pack(audit, originals=[fake])
