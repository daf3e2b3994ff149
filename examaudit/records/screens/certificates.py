"""Certificates against scores, the roster and video: the paper trail should close.

Checks, each a list of plain dict rows for the report:

* ``certificate_without_pass``: a certificate whose holder has no passing score at the
  exam point and session it names (or is not on the roster at all);
* ``pass_without_certificate``: a pass with no certificate ``issue_within_days`` after the
  exam; only judged when the register runs at least that far past the exam, so recent
  passes are not reported as missing;
* ``multiple_certificates``: one person (by ID number where known, else candidate id)
  holding more than one certificate of the same category;
* ``duplicate_certificate``: one certificate number on more than one row;
* ``certificate_absent_on_video``: a certificate for a candidate whom a video analysis
  found absent from the seat (video ``absent_candidate`` findings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..tables import Certificates, Roster, Scores


@dataclass
class CertificateChecks:
    certificate_without_pass: list[dict] = field(default_factory=list)
    pass_without_certificate: list[dict] = field(default_factory=list)
    multiple_certificates: list[dict] = field(default_factory=list)
    duplicate_certificate: list[dict] = field(default_factory=list)
    certificate_absent_on_video: list[dict] = field(default_factory=list)
    issued_by_exam_point: dict[str, int] = field(default_factory=dict)
    anomalies_by_exam_point: dict[str, int] = field(default_factory=dict)


class CertificateCrossCheck:
    """Parameters:
        issue_within_days: schedule for issuing a certificate after a pass.
    """

    def __init__(self, issue_within_days: int = 45):
        self.issue_within_days = issue_within_days

    def fit(self, *args, **kwargs) -> "CertificateCrossCheck":
        return self

    def score(self, certificates: Certificates, roster: Roster, scores: Scores,
              absent_on_video: set[str] | None = None) -> CertificateChecks:
        out = CertificateChecks()
        absent_on_video = absent_on_video or set()
        cid_by_idno = {}
        for c, idn in zip(roster.candidate_id, roster.id_number):
            if idn:
                cid_by_idno.setdefault(idn, c)
        holder = np.array([c if c else cid_by_idno.get(idn, "") for c, idn in zip(certificates.candidate_id, certificates.id_number)], dtype=object)
        score_at = {c: (ep, s, p) for c, ep, s, p in zip(scores.candidate_id, scores.exam_point, scores.session,
                                                         np.where(scores.passed >= 0, scores.passed, (scores.total >= np.nan_to_num(scores.pass_mark, nan=60.0)).astype(np.int8)))}
        issued_ep = certificates.exam_point
        for ep in issued_ep:
            out.issued_by_exam_point[ep] = out.issued_by_exam_point.get(ep, 0) + 1

        def flag(bucket: list, kind: str, i: int, why: str, **extra):
            row = {"kind": kind, "certificate_no": certificates.certificate_no[i], "candidate_id": holder[i],
                   "exam_point": certificates.exam_point[i], "session": certificates.session[i], "row": int(certificates.row[i]),
                   "issued_at": str(certificates.issued_at[i]), "reason": why, **extra}
            bucket.append(row)
            out.anomalies_by_exam_point[row["exam_point"]] = out.anomalies_by_exam_point.get(row["exam_point"], 0) + 1

        for i in range(len(certificates)):
            rec = score_at.get(holder[i])
            if rec is None:
                flag(out.certificate_without_pass, "certificate_without_pass", i, "holder has no score record")
            elif rec[0] != certificates.exam_point[i] or rec[1] != certificates.session[i]:
                flag(out.certificate_without_pass, "certificate_without_pass", i,
                     f"holder sat at {rec[0]}/{rec[1]}, not the exam point and session on the certificate")
            elif rec[2] != 1:
                flag(out.certificate_without_pass, "certificate_without_pass", i, "holder failed the exam")
            if holder[i] in absent_on_video:
                flag(out.certificate_absent_on_video, "certificate_absent_on_video", i, "video shows the seat empty")

        nos, first, counts = np.unique(certificates.certificate_no.astype(str), return_index=True, return_counts=True)
        for no, c in zip(nos[counts > 1], counts[counts > 1]):
            rows = np.flatnonzero(certificates.certificate_no == no)
            flag(out.duplicate_certificate, "duplicate_certificate", int(rows[1]), f"number appears on {c} rows",
                 rows=[int(certificates.row[r]) for r in rows])

        person = np.array([idn if idn else f"cid:{h}" for idn, h in zip(certificates.id_number, holder)], dtype=object)
        key = np.char.add(person.astype(str), "\x1f" + certificates.category.astype(str))
        _, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        for g in np.flatnonzero(counts > 1):
            rows = np.flatnonzero(inv == g)
            if len(set(certificates.certificate_no[rows])) < 2:
                continue  # the same number twice is a duplicate row, reported above
            flag(out.multiple_certificates, "multiple_certificates", int(rows[-1]),
                 f"{len(rows)} certificates of category {certificates.category[rows[0]] or '(none)'} for one person",
                 certificate_nos=[str(certificates.certificate_no[r]) for r in rows])

        if len(certificates) and np.any(~np.isnat(certificates.issued_at)):
            register_end = certificates.issued_at[~np.isnat(certificates.issued_at)].max()
            have = set(holder)
            due = np.timedelta64(self.issue_within_days, "D")
            exam_day = np.where(np.isnat(scores.submitted_at), scores.started_at, scores.submitted_at)
            for i in np.flatnonzero(scores.passed == 1):
                if scores.candidate_id[i] in have or np.isnat(exam_day[i]) or exam_day[i] + due > register_end:
                    continue
                out.pass_without_certificate.append({
                    "kind": "pass_without_certificate", "candidate_id": scores.candidate_id[i], "exam_point": scores.exam_point[i],
                    "session": scores.session[i], "row": int(scores.row[i]), "exam_day": str(exam_day[i])[:10],
                    "reason": f"passed, no certificate within {self.issue_within_days} days"})
        return out
