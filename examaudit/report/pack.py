"""The evidence pack: a zipped BagIt bag (RFC 8493) an enforcement officer can check years later.

``build_evidence_pack(DIR)`` writes ``DIR/evidence_pack.zip`` holding, under ``data/``:

* ``findings.json`` (unchanged), ``audit.json`` (run metadata), ``report.html`` / ``report.pdf``;
* every evidence frame the findings cite, at its path inside the audit directory;
* ``clips/<finding id>.<ext>``: the original's packets for each video finding, copied without
  re-encoding (see :mod:`examaudit.report.clips`), with ``clips.json`` saying which packets;
* ``originals.json``: the original footage files with sha256, size and probe;
* ``evidence.csv``: finding -> evidence file index;
* ``custody.jsonl``: the chain of custody, ending with the entry for this packing step.

Each payload file is listed with its sha256 in ``manifest-sha256.txt``; tag files in
``tagmanifest-sha256.txt``. A sidecar ``evidence_pack.zip.sha256`` holds the zip's own hash,
to be recorded out of band (a bag proves integrity, not authorship: anyone can rebuild the
manifests; the out-of-band hash and the custody chain are what make that visible).

``verify_pack(ZIP)`` recomputes every hash itself, so it can name exactly which file changed,
then runs the ``bagit`` library's own validation and checks the custody chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit

from .. import __version__
from ..custody import CustodyLog, check_chain, read_custody
from ..errors import InputError
from ..findings import Finding, Source
from ..outputs import sha256_file, write_csv
from .auditdir import AuditDir, load_audit_dir
from .clips import ClipInfo, clip_suffix, cut_clip

PACK_NAME = "evidence_pack.zip"
BAG_DIR = "evidence_pack"
#: Findings longer than this get two clips (head and tail) instead of one long one.
MAX_CLIP_S = 300.0
#: Media are already compressed; deflating them costs time for nothing.
_STORED = {".mp4", ".mov", ".mkv", ".ts", ".avi", ".flv", ".h264", ".h265", ".jpg", ".jpeg", ".png", ".pdf"}


@dataclass
class PackParams:
    """Parameters of the packing step; recorded in the custody entry.

    Attributes:
        max_clip_s: longest single clip; longer findings are cut as head + tail clips of
            half this length each, so a 40-minute covered-camera finding does not copy 40 minutes.
    """

    max_clip_s: float = MAX_CLIP_S

    def as_dict(self) -> dict[str, Any]:
        return {"max_clip_s": self.max_clip_s}


def _clip_ranges(start_s: float, end_s: float, max_clip_s: float) -> list[tuple[str, float, float]]:
    if end_s - start_s <= max_clip_s:
        return [("", start_s, end_s)]
    half = max_clip_s / 2
    return [("-head", start_s, start_s + half), ("-tail", end_s - half, end_s)]


def _originals_by_name(audit: AuditDir, originals: list[Path] | None) -> dict[str, Path]:
    if originals is None:
        paths = [Path(r.path) for r in audit.recordings if r.path and Path(r.path).is_file()]
    else:
        paths = [Path(p) for p in originals]
        for p in paths:
            if not p.is_file():
                raise InputError("original footage file not found", path=p)
    return {p.name: p for p in paths}


def _copy(src: Path, payload: Path, rel: str) -> Path:
    dest = payload / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _evidence_rel(audit: AuditDir, src: Path) -> str:
    return src.resolve().relative_to(audit.root.resolve()).as_posix()


def _stage_payload(audit: AuditDir, payload: Path, originals: dict[str, Path], params: PackParams) -> dict[str, Any]:
    """Copy and cut everything into ``payload``; return facts for the custody entry."""
    root = audit.root
    if audit.findings is None:
        raise InputError("findings.json is missing: nothing to pack", path=root / "findings.json")
    for name in ("findings.json", "audit.json", "report.html", "report.pdf", "reviews.json"):
        if (root / name).is_file():
            _copy(root / name, payload, name)

    # The originals: hash them now and compare with what the audit analysed.
    manifest = []
    by_name = {r.name: r for r in audit.recordings}
    for name, path in sorted(originals.items()):
        sha = sha256_file(path)
        rec = by_name.get(name)
        if rec is not None and rec.sha256 and rec.sha256 != sha:
            raise InputError(
                f"sha256 {sha[:12]}… differs from the {rec.sha256[:12]}… the audit analysed: "
                "the file changed since, so no evidence is cut from it", path=path)
        manifest.append({
            "name": name, "path": str(path), "sha256": sha, "size_bytes": path.stat().st_size,
            "room": rec.room if rec else None, "camera": rec.camera if rec else None,
            "probe": rec.probe if rec else None,
        })
    for rec in audit.recordings:  # analysed but not supplied: still listed, marked absent
        if rec.name not in originals:
            manifest.append({"name": rec.name, "path": rec.path, "sha256": rec.sha256, "size_bytes": rec.size_bytes,
                             "room": rec.room, "camera": rec.camera, "probe": rec.probe, "supplied": False})
    (payload / "originals.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n",
                                            encoding="utf-8")

    index: list[dict[str, Any]] = []
    clips: list[dict[str, Any]] = []
    missing: list[str] = []
    for f in audit.findings.sorted().findings:
        for ev in f.evidence:
            src = audit.evidence_file(f, ev)
            if src is None:
                missing.append(f"{f.id}: {ev.path}")
                continue
            rel = _evidence_rel(audit, src)
            if not (payload / rel).exists():
                _copy(src, payload, rel)
            index.append({"finding_id": f.id, "kind": f.kind.value, "severity": f.severity.value, "type": ev.type,
                          "path": rel, "sha256": ev.sha256, "t_s": ev.t_s, "caption": ev.caption})
        clips.extend(_cut_finding_clips(f, originals, payload, params, index))
    (payload / "clips.json").write_text(json.dumps(clips, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_csv(payload / "evidence.csv", index,
              ["finding_id", "kind", "severity", "type", "path", "sha256", "t_s", "caption"])
    return {"originals": {m["name"]: m["sha256"] for m in manifest if m.get("supplied", True)},
            "clips": len(clips), "evidence_missing": missing}


def _cut_finding_clips(f: Finding, originals: dict[str, Path], payload: Path, params: PackParams,
                       index: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if f.source != Source.video or f.start_s is None or not f.recording or f.recording not in originals:
        return []
    original = originals[f.recording]
    end = f.end_s if f.end_s is not None else f.start_s
    out = []
    for tag, a, b in _clip_ranges(f.start_s, end, params.max_clip_s):
        rel = f"clips/{f.id}{tag}{clip_suffix(original)}"
        try:
            info: ClipInfo = cut_clip(original, payload / rel, a, b)
        except InputError as exc:
            # A footage gap at the end of a session, for one, has no packets to copy: the
            # finding stands on its frames and numbers, and the pack says why there is no clip.
            out.append({"finding_id": f.id, "kind": f.kind.value, "clip": None, "original": original.name,
                        "no_clip_reason": str(exc)})
            continue
        sha = sha256_file(payload / rel)
        out.append({"finding_id": f.id, "kind": f.kind.value, "clip": rel, "clip_sha256": sha,
                    "original": original.name, **{k: v for k, v in info.as_dict().items() if k not in ("path", "source")}})
        index.append({"finding_id": f.id, "kind": f.kind.value, "severity": f.severity.value, "type": "clip",
                      "path": rel, "sha256": sha, "t_s": info.first_keyframe_s,
                      "caption": f"stream copy {info.first_keyframe_s:.2f}–{info.last_s:.2f} s of {original.name}"})
    return out


def _zip_dir(bag: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for p in sorted(bag.rglob("*")):
                if p.is_file():
                    arc = f"{BAG_DIR}/{p.relative_to(bag).as_posix()}"
                    comp = zipfile.ZIP_STORED if p.suffix.lower() in _STORED else zipfile.ZIP_DEFLATED
                    zf.write(p, arc, compress_type=comp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def build_evidence_pack(audit_dir: str | Path, *, originals: list[Path] | None = None,
                        params: PackParams | None = None) -> Path:
    """Write ``audit_dir/evidence_pack.zip`` and return its path.

    Parameters:
        audit_dir: an audit output directory (``findings.json`` required; report files,
            frames and records are packed when present).
        originals: the original footage files to cut clips from; by default the paths
            ``audit.json`` lists, where they still exist. Each is re-hashed and must match
            the sha256 the audit recorded.

    Appends a ``pack`` entry to ``audit_dir/custody.jsonl`` (created if absent) naming every
    payload file's sha256, the tool version and the parameters; the pack holds that log.

    Raises:
        InputError: no findings.json, a missing original, or an original whose hash changed.
    """
    params = params or PackParams()
    audit = load_audit_dir(audit_dir)
    by_name = _originals_by_name(audit, originals)
    dest = audit.root / PACK_NAME
    with tempfile.TemporaryDirectory(prefix=".pack-", dir=audit.root) as tmp:
        bag_dir = Path(tmp) / BAG_DIR
        bag_dir.mkdir()
        facts = _stage_payload(audit, bag_dir, by_name, params)
        outputs = {p.relative_to(bag_dir).as_posix(): sha256_file(p) for p in sorted(bag_dir.rglob("*")) if p.is_file()}
        inputs = dict(facts["originals"])
        if (audit.root / "findings.json").is_file():
            inputs["findings.json"] = sha256_file(audit.root / "findings.json")
        CustodyLog(audit.custody_path).append(
            "pack",
            inputs=inputs,
            outputs=outputs,
            parameters={**params.as_dict(), "bagit": bagit.VERSION if hasattr(bagit, "VERSION") else None,
                        "checksums": ["sha256"], "clips": facts["clips"]},
            note=("evidence files not found: " + "; ".join(facts["evidence_missing"][:20]))
            if facts["evidence_missing"] else "evidence pack built; clips are stream copies, never re-encoded",
        )
        shutil.copyfile(audit.custody_path, bag_dir / "custody.jsonl")
        bag_info = {
            "Source-Organization": str(audit.meta.get("name") or ""),
            "External-Description": f"examaudit evidence pack for exam point {audit.exam_point or '?'}",
            "External-Identifier": str(audit.exam_point or ""),
            "Examaudit-Version": __version__,
        }
        bagit.make_bag(str(bag_dir), {k: v for k, v in bag_info.items() if v}, processes=1, checksums=["sha256"])
        _zip_dir(bag_dir, dest)
    (dest.parent / f"{dest.name}.sha256").write_text(f"{sha256_file(dest)}  {dest.name}\n", encoding="utf-8")
    return dest


# ---------------------------------------------------------------------------------- verify


@dataclass
class VerifyResult:
    """What :func:`verify_pack` found. Paths are relative to the bag root (``data/...``).

    Attributes:
        changed: files whose bytes differ from their manifest hash.
        missing: files a manifest lists that are not in the pack.
        unexpected: payload files no manifest lists.
        problems: everything else (bag structure, custody chain, custody vs manifest).
        files_checked: how many files were hashed.
    """

    path: Path
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unexpected or self.problems)

    def lines(self) -> list[str]:
        out = [f"changed: {p}" for p in self.changed]
        out += [f"missing: {p}" for p in self.missing]
        out += [f"unexpected: {p}" for p in self.unexpected]
        out += [f"problem: {p}" for p in self.problems]
        return out


def _read_manifest(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            entries[f"<{path.name} line {n}>"] = ""
            continue
        digest, name = parts
        entries[bagit._decode_filename(name.strip()) if hasattr(bagit, "_decode_filename") else name.strip()] = digest.lower()
    return entries


def _extract(zf: zipfile.ZipFile, dest: Path) -> list[str]:
    """Extract every member; return the names of members whose bytes fail the zip's own CRC."""
    damaged: list[str] = []
    for info in zf.infolist():
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts:
            raise InputError(f"unsafe path in zip: {info.filename}")
        try:
            zf.extract(info, dest)
        except (zipfile.BadZipFile, zlib.error, EOFError):
            damaged.append(info.filename)
            (dest / info.filename).unlink(missing_ok=True)
    return damaged


def _find_bag_root(tmp: Path) -> Path:
    if (tmp / "bagit.txt").is_file():
        return tmp
    for cand in sorted(tmp.iterdir()):
        if cand.is_dir() and (cand / "bagit.txt").is_file():
            return cand
    raise InputError("no bagit.txt in the zip: not an evidence pack")


def _check_hashes(root: Path, result: VerifyResult) -> None:
    manifests = [("manifest-sha256.txt", True), ("tagmanifest-sha256.txt", False)]
    listed: set[str] = set()
    for name, required in manifests:
        mpath = root / name
        if not mpath.is_file():
            if required:
                result.missing.append(name)
            continue
        for rel, expected in _read_manifest(mpath).items():
            listed.add(rel)
            p = root / rel
            if not expected:
                result.problems.append(f"{name}: malformed line {rel}")
            elif not p.is_file():
                result.missing.append(rel)
            else:
                result.files_checked += 1
                if sha256_file(p) != expected:
                    result.changed.append(rel)
    for p in sorted((root / "data").rglob("*")) if (root / "data").is_dir() else []:
        if p.is_file() and p.relative_to(root).as_posix() not in listed:
            result.unexpected.append(p.relative_to(root).as_posix())


def _check_custody(root: Path, result: VerifyResult) -> None:
    log = root / "data" / "custody.jsonl"
    if not log.is_file():
        if "data/custody.jsonl" not in result.missing:
            result.problems.append("data/custody.jsonl is absent: no chain of custody")
        return
    try:
        result.problems.extend(f"data/custody.jsonl: {p}" for p in check_chain(log))
        entries = read_custody(log)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        result.problems.append(f"data/custody.jsonl: a line is not valid JSON ({exc})")
        return
    packs = [e for e in entries if e.get("action") == "pack"]
    if not packs:
        result.problems.append("data/custody.jsonl: no pack entry")
        return
    # The pack entry names every payload file's hash: a rebuilt manifest cannot hide an edit
    # unless the custody log was rewritten too (which breaks the chain or the out-of-band hash).
    for rel, sha in packs[-1].get("outputs", {}).items():
        p = root / "data" / rel
        if rel == "custody.jsonl":
            continue
        if not p.is_file():
            if f"data/{rel}" not in result.missing:
                result.missing.append(f"data/{rel}")
        elif sha256_file(p) != sha and f"data/{rel}" not in result.changed:
            result.changed.append(f"data/{rel}")


def verify_pack(path: str | Path) -> VerifyResult:
    """Check an evidence pack: every hash, the bag's structure and the custody chain.

    Raises:
        InputError: the file is missing or not a zip (unreadable input, not a failed check).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("evidence pack not found", path=path)
    if not zipfile.is_zipfile(path):
        raise InputError("not a zip file, so not an evidence pack", path=path)
    result = VerifyResult(path=path)
    with tempfile.TemporaryDirectory(prefix="examaudit-verify-") as tmp:
        try:
            with zipfile.ZipFile(path) as zf:
                damaged = _extract(zf, Path(tmp))
        except (zipfile.BadZipFile, OSError) as exc:
            raise InputError(f"cannot unpack: {exc}", path=path) from None
        root = _find_bag_root(Path(tmp))
        prefix = root.relative_to(Path(tmp)).as_posix()
        # A member whose bytes were changed inside the zip fails its CRC: it is a changed file.
        result.changed += [d[len(prefix) + 1:] if prefix != "." and d.startswith(prefix + "/") else d for d in damaged]
        _check_hashes(root, result)
        _check_custody(root, result)
        try:
            bagit.Bag(str(root)).validate(processes=1)
        except bagit.BagValidationError as exc:
            if result.ok:  # our own check found nothing, so report what bagit says
                result.problems.append(f"bagit: {exc}")
        except bagit.BagError as exc:
            result.problems.append(f"bagit: {exc}")
    result.changed = sorted(set(result.changed))
    result.missing = sorted(set(result.missing) - set(result.changed))
    return result
