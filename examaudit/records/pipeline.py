"""Records forensics end to end: validated tables -> screens -> candidate suspicion and
exam-point risk, with findings and every intermediate kept as plain data for the report.

``run_records`` decides; ``write_records_outputs`` writes ``candidates.csv``,
``exam_points.csv``, ``findings.json`` and ``validation.csv``. Every screen runs on whatever
inputs are present and ``RecordsResult.skipped`` says which did not run and why.

Example:
    >>> from examaudit.records.simulate import simulate_tables
    >>> sim = simulate_tables(seed=5, exam_points=6, candidates_per_session=20, n_items=30)
    >>> res = run_records(sim.tables)
    >>> sorted(res.exam_points.exam_point) == sorted(set(sim.tables.scores.exam_point))
    True
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import InputError
from ..outputs import neutralise, path_text, sha256_file
from ..findings import (Finding, FindingKind, FindingsDocument, InputFile, RunInfo, Severity, Source, merge_findings,
                        now_utc, read_findings, write_findings)
from . import reasons as R
from .fusion import COMBINERS, benjamini_hochberg
from .load import load_records
from .screens.calibration import EmpiricalNull
from .screens.callbacks import INDICATORS, CallbackResult, CallbackScreen
from .screens.certificates import CertificateChecks, CertificateCrossCheck
from .screens.exam_point import BunchingHistogram, CompletionTimeScreen, PassRateScreen, ScoreBunching
from .screens.irt import PersonFit, TwoPLModel
from .screens.multivariate import ExamPointOutliers
from .screens.preknowledge import ItemPreknowledge, PreknowledgeResult
from .screens.rates import RateTable, rate_table
from .screens.response_time import LognormalRTModel, rapid_correct, rapid_responses, rt_person_fit
from .screens.similarity import AnswerSimilarity, SimilarityResult
from .tables import RecordsTables, RejectedRow

CANDIDATE_SCREENS = ("person_fit", "rt_aberrance", "rapid_correct", "preknowledge", "similarity", "bunching", "callback",
                     "certificate", "video")
#: the screens on response patterns (their p-values are calibrated on the data's own null)
PATTERN_SCREENS = ("person_fit", "rt_aberrance", "rapid_correct", "preknowledge")
EXAM_POINT_SCREENS = ("pass_rate", "bunching", "fast_completion", "response_patterns", "similarity_share",
                      *(f"callback_{k}" for k in INDICATORS), "certificates")


@dataclass
class RecordsInputs:
    """Paths of the records files; only roster and scores are required. ``timezone`` is the exam
    point's: times in the files without an offset are its local time."""

    roster: Path
    scores: Path
    responses: Path | None = None
    callbacks: Path | None = None
    certificates: Path | None = None
    timezone: str = "Asia/Shanghai"

    def files(self) -> list[tuple[str, Path]]:
        return [(role, Path(p)) for role, p in asdict(self).items() if p is not None and role != "timezone"]


@dataclass
class RecordsParameters:
    """Every tunable of a run; written into ``findings.json`` so a run can be defended.

    ``evidence_p`` turns direct evidence (a callback admission, a certificate without a pass,
    an empty seat on video) into a p-value for the candidate's combination: it is how strongly
    we treat one such fact, not a statistical estimate.
    """

    default_pass_mark: float = 60.0
    combine: str = "hmp"
    candidate_fdr: float = 0.01
    exam_point_fdr: float = 0.10
    pair_fdr: float = 0.01
    flag_p: float = 0.001
    min_response_time_effort: float = 0.9
    max_guessing_accuracy: float = 0.4
    issue_within_days: int = 45
    bunching_window_bins: int = 3
    fast_quantile: float = 0.05
    outlier_contamination: float = 0.05
    seed: int = 0
    #: weights of the candidate screens in the weighted harmonic mean (any positive numbers;
    #: the combination stays valid whatever they are). They say how much of the bureau's prior
    #: belief goes to each screen: the preknowledge and similarity screens, built for the fraud
    #: that mills sell, carry most of it, so one strong calibrated signal there is not
    #: outvoted by the chance minima of several weak screens.
    screen_weights: dict[str, float] = field(default_factory=lambda: {
        "preknowledge": 6.0, "similarity": 2.0, "person_fit": 0.5, "rt_aberrance": 0.25, "rapid_correct": 0.5,
        "bunching": 1.0, "callback": 1.0, "certificate": 1.0, "video": 1.0})
    evidence_p: dict[str, float] = field(default_factory=lambda: {
        "admitted_not_in_person": 1e-4, "paid_intermediary": 1e-2, "no_training": 5e-2,
        "certificate_without_pass": 1e-4, "multiple_certificates": 1e-3, "absent_on_video": 1e-4})


@dataclass
class CandidateTable:
    """One row per scored candidate. ``screens`` holds each screen's p-value (``nan`` = not
    run); ``statistics`` the raw statistics (theta, lz_star, tau, l_t, rapid_correct_t ...)."""

    candidate_id: np.ndarray
    exam_point: np.ndarray
    session: np.ndarray
    suspicion: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    screens: dict[str, np.ndarray]
    statistics: dict[str, np.ndarray]
    reasons_zh: list[list[str]]
    reasons_en: list[list[str]]


@dataclass
class ExamPointTable:
    exam_point: np.ndarray
    n_candidates: np.ndarray
    risk: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    rank: np.ndarray
    screens: dict[str, np.ndarray]
    reasons_zh: list[list[str]]
    reasons_en: list[list[str]]
    outlier_score: np.ndarray | None = None
    outlier_contributions: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RecordsResult:
    """All a report needs. Rates (funnel data with intervals and shrinkage) are in ``rates``
    by name: ``pass_rate``, ``bunching``, ``fast_completion``, ``response_patterns``,
    ``similarity_share``, ``callback_<indicator>``, ``certificates``."""

    tables: RecordsTables
    candidates: CandidateTable
    exam_points: ExamPointTable
    rates: dict[str, RateTable]
    bunching: BunchingHistogram | None
    completion_threshold_s: float | None
    similarity: SimilarityResult | None
    similar_pairs: list[dict]
    similarity_clusters: list[dict]
    callbacks: CallbackResult | None
    certificates: CertificateChecks | None
    findings: list[Finding]
    skipped: dict[str, str]
    stats: dict[str, Any]
    parameters: RecordsParameters
    inputs: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def rejected(self) -> list[RejectedRow]:
        return self.tables.rejected


# -- video findings ------------------------------------------------------------------------------

def video_absences(paths: Iterable[str | Path]) -> tuple[set[str], list[Path]]:
    """Candidate ids that video analysis found absent (``absent_candidate`` findings), and
    the findings files read. A directory is searched for ``findings.json`` at any depth."""
    absent: set[str] = set()
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        found = [p] if p.is_file() else sorted(p.rglob("findings.json")) if p.is_dir() else []
        if not found:
            raise InputError("no findings.json here", path=p)
        for f in found:
            try:
                doc = read_findings(f)
            except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
                raise InputError(f"not a findings.json: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", path=f) from exc
            files.append(f)
            absent |= {x.candidate_id for x in doc.findings if x.kind == FindingKind.absent_candidate and x.candidate_id}
    return absent, files


# -- the run -------------------------------------------------------------------------------------

def _severity(p: float) -> Severity:
    return Severity.high if p < 1e-6 else Severity.medium if p < 1e-3 else Severity.low


def run_records(inputs: RecordsInputs | RecordsTables, video_findings: Sequence[str | Path] = (),
                parameters: RecordsParameters | None = None, on_stage: Callable[[str], None] | None = None,
                absent_on_video: set[str] | None = None) -> RecordsResult:
    """Load (if given paths), screen and fuse. ``on_stage`` is told each stage's name as it starts."""
    prm = parameters or RecordsParameters()
    stage = on_stage or (lambda name: None)
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def tick(name: str):
        now = time.perf_counter()
        timings[name] = round(now - clock[0], 3)
        clock[0] = now

    stage("load")
    if isinstance(inputs, RecordsInputs):
        tables = load_records(inputs.roster, inputs.scores, inputs.responses, inputs.callbacks, inputs.certificates,
                              timezone_name=inputs.timezone)
        files = inputs.files()
    else:
        tables, files = inputs, []
    absent = set(absent_on_video or ())
    if video_findings:
        more, vfiles = video_absences(video_findings)
        absent |= more
        files += [("video_findings", f) for f in vfiles]
    tick("load")
    if len(tables.scores) == 0:
        raise InputError("no valid score rows; see validation.csv", path=tables.scores.path or None)

    ro, sc = tables.roster, tables.scores
    n = len(sc)
    skipped: dict[str, str] = {}
    findings: list[Finding] = []
    rates: dict[str, RateTable] = {}
    cand_p = {k: np.full(n, np.nan) for k in CANDIDATE_SCREENS}
    cand_stat: dict[str, np.ndarray] = {}
    cand_reasons: list[list[tuple[float, str, str]]] = [[] for _ in range(n)]
    idx_of = {c: i for i, c in enumerate(sc.candidate_id)}
    roster_at = {c: i for i, c in enumerate(ro.candidate_id)}
    r_rows = np.array([roster_at[c] for c in sc.candidate_id])
    room, seat = ro.room[r_rows], ro.seat[r_rows]
    pass_mark = np.where(np.isfinite(sc.pass_mark), sc.pass_mark, prm.default_pass_mark)
    passed = np.where(sc.passed >= 0, sc.passed, (sc.total >= pass_mark).astype(np.int8))

    def add_reason(i: int, p: float, zh_en: tuple[str, str]):
        cand_reasons[i].append((p, *zh_en))

    findings += _record_findings(tables, pass_mark)

    # -- exam point: pass rate, bunching, completion time --------------------------------------
    stage("exam-point screens")
    rates["pass_rate"] = PassRateScreen().fit(sc.exam_point, passed).table_
    bunch = ScoreBunching(window_bins=prm.bunching_window_bins).fit(sc.exam_point, sc.total, pass_mark)
    rates["bunching"] = bunch.score(sc.exam_point, sc.total, pass_mark)
    # Candidates just above the mark at an exam point whose scores bunch there are the ones
    # an insider would have lifted; they inherit that exam point's bunching p-value.
    tab = rates["bunching"]
    k_bin = bunch._bins(np.where(np.isfinite(sc.total), sc.total, -1e9), pass_mark)
    just_above = (k_bin >= 0) & (k_bin < prm.bunching_window_bins)
    p_by_ep = dict(zip(tab.exam_point, tab.p_value))
    cand_p["bunching"][just_above] = [p_by_ep.get(e, 1.0) for e in sc.exam_point[just_above]]
    for i in np.flatnonzero(just_above & (cand_p["bunching"] < 0.01)):
        add_reason(i, cand_p["bunching"][i], (f"刚过及格线（{sc.total[i]:g}分），所在考点分数在及格线处堆积",
                                              f"just passed ({sc.total[i]:g}) at an exam point whose scores bunch at the mark"))
    duration = sc.duration_s
    threshold = None
    if np.isfinite(duration).sum() < 10 and tables.responses is None:
        skipped["fast_completion"] = "no start and submission times in scores, and no responses"
    tick("exam_point")

    # -- candidate: IRT, response times, similarity --------------------------------------------
    similarity = None
    preknowledge: tuple[PreknowledgeResult, np.ndarray] | None = None
    n_items = 0
    if tables.responses is None:
        for k in (*PATTERN_SCREENS, "similarity"):
            skipped[k] = "no responses file"
    else:
        stage("IRT and person-fit")
        x, r, t = tables.responses.matrices(sc.candidate_id)
        answered = (~np.isnan(x)).sum(1)
        has = answered >= max(5, int(0.5 * x.shape[1]))
        if not np.isfinite(duration).sum() >= 10:
            duration = np.where(has, np.nansum(t, axis=1), np.nan)
        irt = TwoPLModel(seed=prm.seed).fit(x[has])
        theta = np.full(n, np.nan)
        theta[has] = irt.theta(x[has])
        lz = np.full(n, np.nan)
        lz[has], _ = PersonFit(irt).score(x[has], theta[has])
        # lz* is N(0, 1) only on data the 2PL generated; real papers (guessing, omits, speeded
        # endings) shift and widen it, so its p-value comes from the sitting's own null
        cand_p["person_fit"][has] = EmpiricalNull(tail="lower", same_side=0.1).fit(lz[has]).p_lower(lz[has])
        cand_stat.update(theta=theta, lz_star=lz, items_answered=answered)
        tick("irt")
        stage("response times")
        if np.isfinite(t).any():
            rt = LognormalRTModel(seed=prm.seed).fit(t[has])
            tau = np.full(n, np.nan)
            l_t = np.full(n, np.nan)
            tstat = np.full(n, np.nan)
            tau_h, z, m = rt.residuals(t[has])
            tau[has] = tau_h
            l_t[has], u, _ = rt_person_fit(z, m)
            cand_p["rt_aberrance"][has] = EmpiricalNull(tail="upper", same_side=0.1).fit(u).p_upper(u)
            p_h = irt.prob(theta[has])
            very_fast, very_fast_right, very_fast_expected = (np.full(n, np.nan) for _ in range(3))
            tstat[has], cand_p["rapid_correct"][has], very_fast[has], very_fast_right[has], very_fast_expected[has] = \
                rapid_correct(z, x[has], p_h, m)
            cand_stat.update(tau=tau, l_t=l_t, rapid_correct_t=tstat, very_fast_answers=very_fast,
                             very_fast_right=very_fast_right, very_fast_expected=very_fast_expected)
            tick("response_times")
            stage("item preknowledge")
            ep_index = np.unique(sc.exam_point.astype(str), return_inverse=True)[1]
            fast, fast_right = rapid_responses(t, x)
            effort = 1 - fast / np.maximum(answered, 1)
            disengaged = (effort < prm.min_response_time_effort) & (fast_right / np.maximum(fast, 1) < prm.max_guessing_accuracy)
            pk = ItemPreknowledge(seed=prm.seed).fit_score(x[has], z, m, irt, theta[has], rt.alpha_, ep_index[has],
                                                           engaged=~disengaged[has])
            cand_p["preknowledge"][has] = pk.p_value
            for name, v in (("preknowledge_z", pk.stat), ("preknowledge_time", pk.d_time), ("preknowledge_score", pk.d_score)):
                cand_stat[name] = np.full(n, np.nan)
                cand_stat[name][has] = v
            preknowledge = (pk, np.flatnonzero(has))
            # Motivation filtering (Wise & DeMars 2005): a candidate who answered most items in
            # seconds was not trying; their misfit is disengagement, not misconduct, so the
            # pattern screens say nothing about them and the reason says why.
            # Rapid answers that are mostly *right* are the opposite of guessing: a candidate who
            # knew a leaked third of the paper answers it in seconds, and filtering them as
            # "not trying" would hide exactly the fraud the preknowledge screen is for. Only
            # rapid answers no better than chance (here: under 40% right) count as disengaged.
            cand_stat.update(rapid_answers=fast, rapid_correct_answers=fast_right, response_time_effort=effort)
            for i in np.flatnonzero(disengaged):
                for k in PATTERN_SCREENS:
                    cand_p[k][i] = np.nan
                add_reason(i, 0.5, ("大部分题目数秒内作答（未认真作答，非作弊迹象）",
                                    f"answered {int(fast[i])} items in seconds: disengaged rather than cheating"))
            del z, m, p_h
        else:
            skipped["rt_aberrance"] = skipped["rapid_correct"] = skipped["preknowledge"] = "responses carry no usable times"
        tick("preknowledge")
        stage("answer similarity")
        group = np.unique(np.char.add(sc.exam_point.astype(str), "\x1f" + sc.session.astype(str)), return_inverse=True)[1]
        sim_model = AnswerSimilarity(pair_fdr=prm.pair_fdr).fit(r[has], x[has])
        sub = np.flatnonzero(has)
        sim_sub = sim_model.score(group[has], r[has], x[has], irt.prob(theta[has]), room[has], seat[has])
        cand_p["similarity"][has] = sim_sub.p_value
        partner = np.full(n, -1)
        partner[has] = np.where(sim_sub.partner >= 0, sub[np.maximum(sim_sub.partner, 0)], -1)
        # map subset indices back to the score table
        pairs = [type(pr)(**{**asdict(pr), "a": int(sub[pr.a]), "b": int(sub[pr.b])}) for pr in sim_sub.pairs]
        clusters = [[int(sub[i]) for i in c] for c in sim_sub.clusters]
        cluster_of = np.full(n, -1)
        cluster_of[has] = sim_sub.cluster_of
        similarity = SimilarityResult(cand_p["similarity"], partner, pairs, clusters, sim_sub.n_pairs_tested, cluster_of)
        n_items = x.shape[1]
        del x, r, t
        tick("similarity")

    if "fast_completion" not in skipped:
        comp = CompletionTimeScreen(prm.fast_quantile).fit(sc.exam_point, duration)
        threshold = comp.threshold_s_
        rates["fast_completion"] = comp.score(sc.exam_point, duration)
        cand_stat["duration_s"] = duration

    # -- callbacks -----------------------------------------------------------------------------
    cb_result = None
    if tables.callbacks is None:
        skipped["callbacks"] = "no callbacks file"
    elif len(tables.callbacks) == 0:
        skipped["callbacks"] = "callbacks file has no valid rows"
    else:
        stage("callbacks")
        ep_of = dict(zip(ro.candidate_id, ro.exam_point))
        cb_result = CallbackScreen().fit(tables.callbacks, ep_of).result_
        for k, tab in cb_result.rates.items():
            rates[f"callback_{k}"] = tab
        ev = prm.evidence_p
        for c, f in cb_result.candidate_flags.items():
            i = idx_of.get(c)
            if f["not_in_person"]:
                findings.append(Finding.create(
                    kind=FindingKind.callback_not_in_person, source=Source.callbacks, severity=Severity.high,
                    exam_point=ep_of.get(c), candidate_id=c, confidence=0.9,
                    reason_zh=f"考生{c}在回访中称未亲自参加考试。", reason_en=f"Candidate {c} said on callback that someone else sat the exam.",
                    details={"key": "not_in_person"}))
            if i is None:
                continue
            p = ev["admitted_not_in_person"] if f["not_in_person"] else ev["paid_intermediary"] if f["paid_intermediary"] else ev["no_training"]
            cand_p["callback"][i] = p
            add_reason(i, p, R.admitted_not_in_person() if f["not_in_person"] else R.callback_other(f["no_training"], f["paid_intermediary"]))
    tick("callbacks")

    # -- certificates --------------------------------------------------------------------------
    cert = None
    if tables.certificates is None:
        skipped["certificates"] = "no certificates file"
    else:
        stage("certificates")
        cert = CertificateCrossCheck(prm.issue_within_days).score(tables.certificates, ro, sc, absent)
        findings += _certificate_findings(cert)
        ev = prm.evidence_p
        for row in cert.certificate_without_pass + cert.multiple_certificates + cert.certificate_absent_on_video:
            i = idx_of.get(row["candidate_id"])
            if i is not None:
                p = ev["multiple_certificates"] if row["kind"] == "multiple_certificates" else ev["certificate_without_pass"]
                cand_p["certificate"][i] = np.fmin(cand_p["certificate"][i], p)
                add_reason(i, p, R.certificate_problem(row["kind"]))
        eps = np.array(sorted(set(sc.exam_point) | set(cert.issued_by_exam_point)), dtype=object)
        rates["certificates"] = rate_table("certificates", eps, [cert.anomalies_by_exam_point.get(e, 0) for e in eps],
                                           [max(cert.issued_by_exam_point.get(e, 0), cert.anomalies_by_exam_point.get(e, 0)) for e in eps])
    tick("certificates")

    if absent:
        for c in absent:
            i = idx_of.get(c)
            if i is not None:
                cand_p["video"][i] = prm.evidence_p["absent_on_video"]
                add_reason(i, prm.evidence_p["absent_on_video"], R.absent_on_video())
    else:
        skipped["video"] = "no video findings given" if not video_findings else "video findings name no absent candidates"

    # -- candidate fusion ----------------------------------------------------------------------
    stage("fusion")
    combine = COMBINERS[prm.combine]
    cp = np.column_stack([cand_p[k] for k in CANDIDATE_SCREENS])
    weights = np.array([prm.screen_weights.get(k, 1.0) for k in CANDIDATE_SCREENS])
    p_cand = combine(cp, weights)
    q_cand = benjamini_hochberg(p_cand)
    findings += _candidate_findings(sc, cand_p, cand_stat, similarity, prm, add_reason, n_items)
    if preknowledge is not None:
        findings += _item_compromise_findings(preknowledge, tables.responses.item_ids, sc)

    # exam-point aggregates of candidate screens
    names, inv = np.unique(sc.exam_point.astype(str), return_inverse=True)
    names = names.astype(object)
    counts = np.bincount(inv, minlength=len(names)).astype(float)
    if tables.responses is not None:
        pattern_p = combine(np.column_stack([cand_p[k] for k in PATTERN_SCREENS]))
        flagged = pattern_p < prm.flag_p
        rates["response_patterns"] = rate_table("response_patterns", names, np.bincount(inv[flagged], minlength=len(names)), counts)
        in_pair = np.zeros(n, bool)
        for pr in similarity.pairs:
            in_pair[[pr.a, pr.b]] = True
        rates["similarity_share"] = rate_table("similarity_share", names, np.bincount(inv[in_pair], minlength=len(names)), counts)

    exam_points = _fuse_exam_points(names, counts, rates, prm, combine, threshold, bunch, similarity, sc)
    findings += _exam_point_findings(exam_points, rates, prm, threshold, bunch)
    tick("fusion")

    stage("multivariate")
    _multivariate(exam_points, rates, cand_p, inv, prm, findings)
    tick("multivariate")

    reasons_zh, reasons_en = [], []
    for lst in cand_reasons:
        lst.sort(key=lambda t: t[0])
        reasons_zh.append([t[1] for t in lst[:3]])
        reasons_en.append([t[2] for t in lst[:3]])
    candidates = CandidateTable(sc.candidate_id, sc.exam_point, sc.session, 1 - q_cand, p_cand, q_cand, cand_p, cand_stat,
                                reasons_zh, reasons_en)
    sim_pairs, sim_clusters = _similarity_rows(similarity, sc, room, seat)
    stats = {
        "candidates": n, "exam_points": len(names), "roster_rows": len(ro), "score_rows": len(sc),
        "response_rows": len(tables.responses) if tables.responses is not None else 0,
        "callback_rows": len(tables.callbacks) if tables.callbacks is not None else 0,
        "certificate_rows": len(tables.certificates) if tables.certificates is not None else 0,
        "rejected_rows": len({(r.file, r.sheet, r.row) for r in tables.rejected if r.action == "rejected"}),
        "kept_rows_with_problems": len({(r.file, r.sheet, r.row) for r in tables.rejected if r.action == "kept"}),
        "rejected_by_file": _count_by_file(tables.rejected),
        "screens_skipped": dict(skipped), "video_absent_candidates": len(absent),
        "similar_pairs": len(sim_pairs), "similarity_clusters": len(sim_clusters), "seconds": timings,
    }
    return RecordsResult(tables, candidates, exam_points, rates, bunch.histogram_, threshold, similarity, sim_pairs,
                         sim_clusters, cb_result, cert, merge_findings(findings), skipped, stats, prm, files)


def _count_by_file(rejected: list[RejectedRow]) -> dict[str, int]:
    out: dict[str, set] = {}
    for r in rejected:
        if r.action == "rejected":
            out.setdefault(Path(r.file).name, set()).add((r.sheet, r.row))
    return {k: len(v) for k, v in out.items()}


def _record_findings(tables: RecordsTables, pass_mark: np.ndarray) -> list[Finding]:
    """Data-quality facts that are findings in themselves: bad ID numbers, duplicate people,
    a pass recorded against the pass mark, a total that is not the sum of its answers."""
    out: list[Finding] = []
    ro, sc = tables.roster, tables.scores
    ep_of = dict(zip(ro.candidate_id, ro.exam_point))
    ro_sheets = ro.sheet if ro.sheet is not None else np.full(len(ro), "", dtype=object)
    cand_at_row = {(str(s), int(r)): c for s, r, c in zip(ro_sheets, ro.row, ro.candidate_id)}
    for rej in tables.rejected:
        if rej.action == "file":  # a whole column is unusable (e.g. ID numbers saved as numbers)
            out.append(Finding.create(
                kind=FindingKind.invalid_record, source=Source.records, severity=Severity.medium, confidence=1.0,
                exam_point=str(ro.exam_point[0]) if len(ro) and len(set(ro.exam_point)) == 1 else None,
                reason_zh=f"{Path(rej.file).name}：{rej.reason_zh or rej.reason}。",
                reason_en=f"{Path(rej.file).name}: {rej.reason}.",
                details={"key": f"file:{rej.file}:{rej.column}", "file": rej.file, "column": rej.column,
                         "first_cell": rej.location, "first_value": rej.value}))
        if rej.column == "id_number" and rej.action == "kept":
            c = cand_at_row.get((rej.sheet, rej.row)) if rej.file == ro.path else None
            out.append(Finding.create(
                kind=FindingKind.invalid_id_number, source=Source.records, severity=Severity.medium,
                exam_point=ep_of.get(c), candidate_id=c, confidence=1.0,
                reason_zh=f"{Path(rej.file).name}第{rej.row}行身份证号无效：{rej.reason}。",
                reason_en=f"{Path(rej.file).name} row {rej.row}: {rej.reason}.",
                details={"key": f"{rej.file}:{rej.row}", "file": rej.file, "row": rej.row, "value": rej.value}))
    has_id = ro.id_number != ""
    if has_id.any():
        ids, inv, cnt = np.unique(ro.id_number[has_id].astype(str), return_inverse=True, return_counts=True)
        cands = ro.candidate_id[has_id]
        for g in np.flatnonzero(cnt > 1):
            who = [str(c) for c in cands[inv == g]]
            out.append(Finding.create(
                kind=FindingKind.duplicate_person, source=Source.records, severity=Severity.high,
                exam_point=ep_of.get(who[0]), candidate_id=who[0], confidence=1.0,
                reason_zh=f"同一身份证号登记为{len(who)}名考生：{'、'.join(who)}。",
                reason_en=f"One ID number is registered as {len(who)} candidates: {', '.join(who)}.",
                details={"key": ids[g], "candidate_ids": who, "id_number_tail": ids[g][-4:]}))
    bad_pass = (sc.passed >= 0) & (sc.passed != (sc.total >= pass_mark))
    for i in np.flatnonzero(bad_pass):
        said = "合格" if sc.passed[i] == 1 else "不合格"
        out.append(Finding.create(
            kind=FindingKind.invalid_record, source=Source.records, severity=Severity.high if sc.passed[i] == 1 else Severity.low,
            exam_point=sc.exam_point[i], session=sc.session[i], candidate_id=sc.candidate_id[i], confidence=1.0,
            reason_zh=f"总分{sc.total[i]:g}、合格线{pass_mark[i]:g}，却记为{said}。",
            reason_en=f"Total {sc.total[i]:g} against pass mark {pass_mark[i]:g}, yet recorded as {'passed' if sc.passed[i] == 1 else 'failed'}.",
            details={"key": "pass_flag", "row": int(sc.row[i]), "total": float(sc.total[i]), "pass_mark": float(pass_mark[i])}))
    if tables.responses is not None and len(tables.responses):
        rsp = tables.responses
        right = np.bincount(rsp.person, weights=rsp.correct, minlength=len(rsp.candidate_ids))
        got = np.bincount(rsp.person, minlength=len(rsp.candidate_ids)) > 0
        by_cand = dict(zip(rsp.candidate_ids[got], right[got]))
        k_right = np.array([by_cand.get(c, np.nan) for c in sc.candidate_id])
        ok = np.isfinite(k_right) & (k_right > 0)
        if ok.sum() >= 20:
            per_item = float(np.median(sc.total[ok] / k_right[ok]))
            diff = np.abs(sc.total - per_item * k_right)
            agree = diff[ok] <= 0.01 * max(per_item, 1) + 0.05
            # only a check when the province scores by count of correct answers
            if agree.mean() >= 0.9:
                for i in np.flatnonzero(np.isfinite(k_right) & (diff > 0.01 * max(per_item, 1) + 0.05)):
                    out.append(Finding.create(
                        kind=FindingKind.invalid_record, source=Source.records, severity=Severity.high,
                        exam_point=sc.exam_point[i], session=sc.session[i], candidate_id=sc.candidate_id[i], confidence=0.95,
                        reason_zh=f"总分{sc.total[i]:g}与作答记录不符（{k_right[i]:g}题正确，应为{per_item * k_right[i]:g}分）。",
                        reason_en=f"Total {sc.total[i]:g} does not match the answers ({k_right[i]:g} correct, worth {per_item * k_right[i]:g}).",
                        details={"key": "total_vs_responses", "total": float(sc.total[i]), "correct": float(k_right[i]), "points_per_item": per_item}))
    return out


def _certificate_findings(cert: CertificateChecks) -> list[Finding]:
    kinds = {"certificate_without_pass": (FindingKind.certificate_without_pass, Severity.high),
             "multiple_certificates": (FindingKind.multiple_certificates, Severity.medium),
             "duplicate_certificate": (FindingKind.duplicate_certificate, Severity.high),
             "certificate_absent_on_video": (FindingKind.certificate_absent_on_video, Severity.critical),
             "pass_without_certificate": (FindingKind.pass_without_certificate, Severity.low)}
    zh_reason = {"holder has no score record": "持证人无成绩记录", "holder failed the exam": "持证人考试不合格",
                 "video shows the seat empty": "录像显示该考位无人"}
    out = []
    for bucket in (cert.certificate_without_pass, cert.multiple_certificates, cert.duplicate_certificate,
                   cert.certificate_absent_on_video, cert.pass_without_certificate):
        for row in bucket:
            kind, sev = kinds[row["kind"]]
            what = row.get("certificate_no") or row["candidate_id"]
            out.append(Finding.create(
                kind=kind, source=Source.certificates, severity=sev, exam_point=row["exam_point"], session=row["session"],
                candidate_id=row["candidate_id"] or None, confidence=0.95,
                reason_zh=f"{what}：{zh_reason.get(row['reason'], row['reason'])}。", reason_en=f"{what}: {row['reason']}.",
                details={"key": f"{row['kind']}:{what}", **{k: v for k, v in row.items() if k != 'kind'}}))
    return out


def _candidate_findings(sc, cand_p, cand_stat, similarity, prm, add_reason, n_items) -> list[Finding]:
    out: list[Finding] = []
    spec = [("person_fit", FindingKind.person_misfit), ("rt_aberrance", FindingKind.response_time_aberrance),
            ("rapid_correct", FindingKind.rapid_correct_answers), ("preknowledge", FindingKind.item_preknowledge)]
    for screen, kind in spec:
        p = cand_p[screen]
        if np.isnan(p).all():
            continue
        q = np.full(len(p), np.nan)
        ok = ~np.isnan(p)
        q[ok] = benjamini_hochberg(p[ok])
        for i in np.flatnonzero(ok & (p < 0.01)):
            if screen == "person_fit":
                zh_en = R.person_misfit(cand_stat["lz_star"][i])
            elif screen == "rt_aberrance":
                zh_en = R.rt_aberrance(cand_stat["l_t"][i], int(cand_stat["items_answered"][i]) - 1)
            elif screen == "rapid_correct":
                zh_en = R.rapid_correct(cand_stat["rapid_correct_t"][i], int(cand_stat["very_fast_answers"][i]),
                                        int(cand_stat["very_fast_right"][i]), float(cand_stat["very_fast_expected"][i]))
            else:
                zh_en = R.preknowledge(cand_stat["preknowledge_z"][i], cand_stat["preknowledge_time"][i],
                                       cand_stat["preknowledge_score"][i])
            add_reason(i, p[i], zh_en)
            if q[i] <= prm.candidate_fdr:
                out.append(Finding.create(
                    kind=kind, source=Source.records, severity=_severity(p[i]), exam_point=sc.exam_point[i],
                    session=sc.session[i], candidate_id=sc.candidate_id[i], confidence=float(1 - q[i]),
                    reason_zh=zh_en[0] + "。", reason_en=zh_en[1] + ".",
                    details={"key": screen, "p_value": float(p[i]), "q_value": float(q[i]),
                             **{k: float(v[i]) for k, v in cand_stat.items() if np.ndim(v) == 1}}))
    if similarity is not None:
        best: dict[int, Any] = {}
        for pr in similarity.pairs:
            for me, other in ((pr.a, pr.b), (pr.b, pr.a)):
                if me not in best or pr.p_value < best[me][0].p_value:
                    best[me] = (pr, other)
            zh, en = R.similar_to(sc.candidate_id[pr.b], pr.matches, n_items, pr.identical_incorrect, pr.expected_identical_incorrect)
            out.append(Finding.create(
                kind=FindingKind.answer_similarity, source=Source.records, severity=_severity(pr.p_value),
                exam_point=sc.exam_point[pr.a], session=sc.session[pr.a], candidate_id=sc.candidate_id[pr.a],
                confidence=float(1 - pr.q_value), reason_zh=f"考生{sc.candidate_id[pr.a]}" + zh + "。",
                reason_en=f"Candidate {sc.candidate_id[pr.a]}: " + en + ".",
                details={"key": sc.candidate_id[pr.b], "other_candidate_id": sc.candidate_id[pr.b], **asdict(pr)}))
        for me, (pr, other) in best.items():
            add_reason(me, pr.p_value, R.similar_to(sc.candidate_id[other], pr.matches, n_items, pr.identical_incorrect,
                                                    pr.expected_identical_incorrect))
        for k, members in enumerate(similarity.clusters):
            if len(members) < 3:
                continue
            ids = [str(sc.candidate_id[i]) for i in members]
            out.append(Finding.create(
                kind=FindingKind.similarity_cluster, source=Source.records, severity=Severity.high,
                exam_point=sc.exam_point[members[0]], session=sc.session[members[0]], candidate_id=ids[0], confidence=0.95,
                reason_zh=f"同场次{len(ids)}名考生答卷互相雷同：{'、'.join(ids)}。",
                reason_en=f"{len(ids)} candidates in one session gave mutually similar answers: {', '.join(ids)}.",
                details={"key": "cluster:" + ",".join(ids), "candidate_ids": ids}))
    return out


def _item_compromise_findings(preknowledge: tuple[PreknowledgeResult, np.ndarray], item_ids, sc) -> list[Finding]:
    """One finding per suspected leaked item: the bureau retires these from the bank."""
    pk, rows = preknowledge
    out: list[Finding] = []
    suspects = rows[pk.suspects]
    if not pk.suspected_items.any():
        return out
    eps, counts = np.unique(sc.exam_point[suspects].astype(str), return_counts=True)
    where = {str(e): int(c) for e, c in sorted(zip(eps, counts), key=lambda t: -t[1])}
    for j in np.flatnonzero(pk.suspected_items):
        ratio, right, exp_right = float(pk.speed_ratio[j]), float(pk.suspect_right[j]), float(pk.expected_right[j])
        zh, en = R.item_compromise(str(item_ids[j]), len(suspects), ratio, right, exp_right)
        # the item belongs to the bank, not to one exam point; it is filed under the exam point
        # where most suspects sat (every one of them is in the details)
        out.append(Finding.create(
            kind=FindingKind.item_compromise, source=Source.records, exam_point=next(iter(where)),
            severity=Severity.high if pk.item_p[j] < 1e-6 else Severity.medium, confidence=float(1 - pk.item_p[j]),
            reason_zh=zh + "。", reason_en=en + ".",
            details={"key": str(item_ids[j]), "item_id": str(item_ids[j]), "item_statistic": float(pk.item_stat[j]),
                     "p_value": float(pk.item_p[j]), "suspects": len(suspects), "suspect_time_ratio": ratio,
                     "suspect_share_right": right, "suspect_expected_right": exp_right,
                     "suspects_by_exam_point": dict(list(where.items())[:20])}))
    return out


def _fuse_exam_points(names, counts, rates, prm, combine, threshold, bunch, similarity, sc) -> ExamPointTable:
    screens: dict[str, np.ndarray] = {}
    reasons: list[list[tuple[float, str, str]]] = [[] for _ in names]
    n_clusters = {}
    if similarity is not None:
        for c in similarity.clusters:
            n_clusters[sc.exam_point[c[0]]] = n_clusters.get(sc.exam_point[c[0]], 0) + 1
    for key in EXAM_POINT_SCREENS:
        tab = rates.get(key)
        if tab is None:
            continue
        col = np.full(len(names), np.nan)
        for g, ep in enumerate(names):
            i = tab.lookup(ep)
            if i is None or tab.totals[i] == 0:
                continue
            p = float(tab.p_value[i])
            col[g] = p
            if p >= 0.05:
                continue
            ev, tot, rate, tgt = int(tab.events[i]), int(tab.totals[i]), float(tab.rate[i]), tab.target
            if key == "pass_rate":
                zh_en = R.pass_rate(rate, tgt, tot, float(tab.z[i]))
            elif key == "bunching":
                zh_en = R.bunching(rate, tgt, tot, prm.bunching_window_bins * bunch.bin_width_)
            elif key == "fast_completion":
                zh_en = R.fast_completion(rate, tgt, threshold or 0.0, tot)
            elif key == "response_patterns":
                zh_en = R.response_patterns(ev, tot, rate, tgt)
            elif key == "similarity_share":
                zh_en = R.similarity_share(ev, tot, n_clusters.get(ep, 0))
            elif key == "certificates":
                zh_en = R.certificates(ev, tot)
            else:
                zh_en = R.callback_rate(key.removeprefix("callback_"), ev, tot, rate, tgt)
            reasons[g].append((p, *zh_en))
        screens[key] = col
    matrix = np.column_stack([screens[k] for k in screens]) if screens else np.full((len(names), 1), np.nan)
    p = combine(matrix)
    q = benjamini_hochberg(p)
    order = np.lexsort((p, q))
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(1, len(names) + 1)
    for lst in reasons:
        lst.sort(key=lambda t: t[0])
    return ExamPointTable(names, counts.astype(np.int64), 1 - q, p, q, rank, screens,
                          [[t[1] for t in lst[:3]] for lst in reasons], [[t[2] for t in lst[:3]] for lst in reasons])


_SCREEN_KIND = {"pass_rate": FindingKind.pass_rate_outlier, "bunching": FindingKind.score_bunching,
                "fast_completion": FindingKind.completion_time_anomaly,
                **{f"callback_{k}": FindingKind.callback_rate_outlier for k in INDICATORS}}


def _exam_point_findings(ep: ExamPointTable, rates, prm, threshold, bunch) -> list[Finding]:
    out: list[Finding] = []
    for key, kind in _SCREEN_KIND.items():
        tab = rates.get(key)
        if tab is None:
            continue
        q = benjamini_hochberg(tab.p_value)
        for i in np.flatnonzero(q <= prm.exam_point_fdr):
            g = np.flatnonzero(ep.exam_point == tab.exam_point[i])
            if not len(g):
                continue
            zh_en = next(((zh, en) for zh, en in zip(ep.reasons_zh[g[0]], ep.reasons_en[g[0]])), None)
            rows = tab.rows()[i]
            if key == "pass_rate":
                zh_en = R.pass_rate(rows["rate"], tab.target, int(rows["totals"]), rows["z"])
            elif key == "bunching":
                zh_en = R.bunching(rows["rate"], tab.target, int(rows["totals"]), prm.bunching_window_bins * bunch.bin_width_)
            elif key == "fast_completion":
                zh_en = R.fast_completion(rows["rate"], tab.target, threshold or 0.0, int(rows["totals"]))
            else:
                zh_en = R.callback_rate(key.removeprefix("callback_"), int(rows["events"]), int(rows["totals"]), rows["rate"], tab.target)
            out.append(Finding.create(
                kind=kind, source=Source.callbacks if key.startswith("callback_") else Source.records,
                severity=_severity(float(tab.p_value[i])), exam_point=str(tab.exam_point[i]), confidence=float(1 - q[i]),
                reason_zh=zh_en[0] + "。", reason_en=zh_en[1] + ".",
                details={"key": key, "screen": key, "q_value": float(q[i]), "target": tab.target, "tau2": tab.tau2,
                         **{k: v for k, v in rows.items() if k != "exam_point"}}))
    for g in np.flatnonzero(ep.q_value <= prm.exam_point_fdr):
        zh = "；".join(ep.reasons_zh[g]) or "多项筛查合并显著"
        en = "; ".join(ep.reasons_en[g]) or "several screens jointly significant"
        out.append(Finding.create(
            kind=FindingKind.exam_point_risk, source=Source.fusion, severity=_severity(float(ep.p_value[g])),
            exam_point=str(ep.exam_point[g]), confidence=float(ep.risk[g]),
            reason_zh=f"考点综合风险排名第{ep.rank[g]}：{zh}。", reason_en=f"Exam point ranked {ep.rank[g]} for risk: {en}.",
            details={"key": "risk", "rank": int(ep.rank[g]), "p_value": float(ep.p_value[g]), "q_value": float(ep.q_value[g]),
                     "screens": {k: (None if np.isnan(v[g]) else float(v[g])) for k, v in ep.screens.items()}}))
    return out


_FEATURE_WORDS = {"pass_rate": ("通过率", "pass rate"), "bunching": ("及格线堆积", "bunching at the pass mark"),
                  "fast_completion": ("快速交卷比例", "share finishing fast"), "response_patterns": ("作答异常比例", "aberrant answering"),
                  "similarity_share": ("雷同比例", "answer similarity"), "certificates": ("证书异常", "certificate anomalies"),
                  "mean_suspicion": ("考生平均可疑度", "mean candidate suspicion"),
                  **{f"callback_{k}": (R.CALLBACK_WORDS[k][0], R.CALLBACK_WORDS[k][1]) for k in INDICATORS}}


def _multivariate(ep: ExamPointTable, rates, cand_p, inv, prm, findings) -> None:
    feats, names = [], []
    for key, tab in rates.items():
        col = np.full(len(ep.exam_point), np.nan)
        for g, e in enumerate(ep.exam_point):
            i = tab.lookup(e)
            if i is not None:
                col[g] = tab.shrunk[i]
        feats.append(col)
        names.append(key)
    if len(ep.exam_point) < 10 or not feats:
        return
    x = np.column_stack(feats)
    model = ExamPointOutliers(prm.outlier_contamination, seed=prm.seed).fit(x)
    score = model.score_samples(x)
    contrib = model.contributions(x)
    ep.outlier_score = score
    ep.outlier_contributions = {k: contrib[:, j] for j, k in enumerate(names)}
    for g in np.flatnonzero(score >= model.threshold_):
        top = np.argsort(-contrib[g])[:3]
        top = [j for j in top if contrib[g, j] > 0] or list(top[:1])
        zh = "、".join(_FEATURE_WORDS.get(names[j], (names[j], names[j]))[0] for j in top)
        en = ", ".join(_FEATURE_WORDS.get(names[j], (names[j], names[j]))[1] for j in top)
        findings.append(Finding.create(
            kind=FindingKind.exam_point_outlier, source=Source.fusion, severity=Severity.low, exam_point=str(ep.exam_point[g]),
            confidence=float(np.clip(score[g], 0, 1)), reason_zh=f"多项指标组合异常，主要在：{zh}。",
            reason_en=f"Unusual on several features together, chiefly {en}.",
            details={"key": "isolation_forest", "score": float(score[g]),
                     "contributions": {names[j]: float(contrib[g, j]) for j in range(len(names))},
                     "features": {names[j]: (None if np.isnan(x[g, j]) else float(x[g, j])) for j in range(len(names))}}))


def _similarity_rows(similarity: SimilarityResult | None, sc, room, seat) -> tuple[list[dict], list[dict]]:
    if similarity is None:
        return [], []
    pairs = [{"candidate_a": str(sc.candidate_id[p.a]), "candidate_b": str(sc.candidate_id[p.b]),
              "exam_point": str(sc.exam_point[p.a]), "session": str(sc.session[p.a]),
              "seat_a": f"{room[p.a]}/{seat[p.a]}", "seat_b": f"{room[p.b]}/{seat[p.b]}", "matches": p.matches,
              "expected_matches": round(p.expected_matches, 2), "identical_incorrect": p.identical_incorrect,
              "expected_identical_incorrect": round(p.expected_identical_incorrect, 2), "p_value": p.p_value,
              "q_value": p.q_value, "adjacent_seats": p.adjacent_seats} for p in similarity.pairs]
    clusters = []
    for members in similarity.clusters:
        ids = {int(i) for i in members}
        adj = sum(1 for p in similarity.pairs if p.a in ids and p.adjacent_seats)
        clusters.append({"exam_point": str(sc.exam_point[members[0]]), "session": str(sc.session[members[0]]),
                         "candidate_ids": [str(sc.candidate_id[i]) for i in members],
                         "seats": [f"{room[i]}/{seat[i]}" for i in members], "size": len(members),
                         "pairs": sum(1 for p in similarity.pairs if p.a in ids), "adjacent_pairs": adj})
    return pairs, clusters


# -- the edge ------------------------------------------------------------------------------------

def write_records_outputs(result: RecordsResult, out_dir: str | Path, *, command: str = "examaudit records",
                          started_at: datetime | None = None, exam_point: str | None = None) -> dict[str, Path]:
    """Write ``candidates.csv``, ``exam_points.csv``, ``findings.json``, ``validation.csv`` and the
    report's chart data ``summary.json`` (callback rates limited to ``exam_point`` when given)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / f"{k}.{'json' if k == 'findings' else 'csv'}" for k in ("candidates", "exam_points", "findings", "validation")}
    c = result.candidates
    order = np.lexsort((c.candidate_id.astype(str), c.p_value))
    with open(paths["candidates"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["candidate_id", "exam_point", "session", "suspicion", "p_value", "reasons"])
        for i in order:
            w.writerow([neutralise(str(c.candidate_id[i])), neutralise(str(c.exam_point[i])), neutralise(str(c.session[i])),
                        f"{c.suspicion[i]:.4f}", f"{c.p_value[i]:.3g}",
                        neutralise(_reasons_cell(c.reasons_zh[i], c.reasons_en[i]))])
    e = result.exam_points
    with open(paths["exam_points"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["exam_point", "risk", "q_value", "rank", "reasons"])
        for g in np.argsort(e.rank):
            w.writerow([neutralise(str(e.exam_point[g])), f"{e.risk[g]:.4f}", f"{e.q_value[g]:.3g}", int(e.rank[g]),
                        neutralise(_reasons_cell(e.reasons_zh[g], e.reasons_en[g]))])
    with open(paths["validation"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "row", "column", "value", "reason", "action", "sheet", "location"])
        for r in result.rejected:
            w.writerow([neutralise(str(x)) for x in (r.file, r.row, r.column, r.value, r.reason, r.action, r.sheet,
                                                      r.location)])
    inputs = [InputFile(role=role, path=path_text(p), sha256=sha256_file(p), size_bytes=p.stat().st_size)
              for role, p in result.inputs if Path(p).is_file()]
    run = RunInfo(command=command, started_at=started_at or now_utc(), finished_at=now_utc(), inputs=inputs,
                  parameters=asdict(result.parameters), stats=result.stats)
    write_findings(FindingsDocument(run=run, findings=result.findings), paths["findings"])
    from .summary import records_summary  # summary builds on this module

    paths["summary"] = out / "summary.json"
    paths["summary"].write_text(json.dumps(records_summary(result, exam_point), ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")
    return paths


def _reasons_cell(zh: list[str], en: list[str]) -> str:
    # one cell, Chinese first then English, so a spreadsheet keeps them together
    return "；".join(zh) + (" | " + "; ".join(en) if en else "")
