"""Simulated exam records with planted misconduct, and the truth about what was planted.

Candidates answer under a two-parameter logistic IRT model with van der Linden lognormal
response times. On top of that we plant, and record in ``truth``:

* ``preknowledge``: at *leak* exam points a share of candidates knew a compromised subset of
  items: those answers are correct and three to six times faster than usual;
* ``copying``: clusters of three to six candidates on adjacent seats who share one answer
  sheet on most items (also a few clusters at honest exam points);
* ``proxy``: one skilled *ringer* sits (or answers remotely) for several candidates in a
  session: high ability, fast, near-identical answers;
* ``inflated``: at *score-inflation* exam points failing candidates within 12 points of the
  pass mark have wrong answers turned right until they just pass;
* ``rapid_guesser``: disengaged candidates answering in seconds at random (not misconduct:
  a screen should not confuse them with cheats);
* callbacks: at *training-fraud* exam points many say they skipped training, paid an
  intermediary, or cannot be reached; proxied candidates sometimes admit it;
* certificates: at *forged-certificate* exam points certificates go to candidates who failed
  or never sat, and some people receive a second certificate of the same type.

The layout (exam points, sessions, candidate ids, rooms, seats) can be given so that
simulated records agree with a simulated exam point's video seats.

``realistic=True`` adds what real licensure data have and the basic model lacks, so that the
screens are calibrated under misspecification rather than on the model they assume:

* item-specific time intensity and time discrimination spread as in published lognormal-RT
  fits to licensure exams (van der Linden 2006; Qian et al. 2016: intensities of about a
  minute with a standard deviation near 0.45 on the log scale, time discriminations 1-3),
  and speed correlated with ability;
* heavy-tailed times: t-distributed log-time residuals, candidate-specific spread, slow
  outliers and breaks of one to ten minutes;
* omitted items (an empty answer, scored wrong, with its time) and not-reached items at the
  end of the form (no row at all);
* speededness: some candidates run short of time near the end and rush, faster and less
  accurate;
* preknowledge on a leaked 20-40% of the items, for 2-5% of candidates concentrated in a few
  exam points, each knowing part of the leak and answering it faster, as mills sell it.

``misconduct=False`` plants nothing (rapid guessers stay: they are not misconduct), which is
the clean data the false-positive rates are measured on. ``score_max`` sets the score scale
(the pass mark is on the same scale).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .idcard import make_id_number
from .load import OUTCOME_NAMES
from .tables import Callbacks, Certificates, RecordsTables, Responses, Roster, Scores

CHEATER_KINDS = ("preknowledge", "copying", "proxy", "inflated")
CENTRE_PLANTS = ("score_inflation", "leak", "copying", "proxy", "training_fraud", "forged_certificates")
CATEGORIES = ("建筑电工", "建筑架子工", "建筑起重信号司索工", "建筑起重机械司机", "高处作业吊篮安装拆卸工")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红建军海燕小龙文斌宇浩凯鹏飞"
_REGIONS = ("330102", "330106", "330203", "330302", "320102", "320583", "310104", "340104", "360102", "410105")

Layout = Mapping[str, Mapping[str, Sequence[Any]]]
#: realistic preknowledge: each buyer knows this share of the leak (uniform between), and
#: answers what they know this many times faster (uniform between)
_KNOW = (0.5, 1.0)
_SPEEDUP = (1.5, 4.0)


@dataclass
class SimulatedRecords:
    tables: RecordsTables
    truth: dict[str, Any]
    items: dict[str, np.ndarray] = field(default_factory=dict)


def _layout(exam_points: int | Sequence[str] | Layout, sessions_per_point: int, candidates_per_session: int,
            candidate_ids: Sequence[str] | None) -> list[tuple[str, str, str, str, str]]:
    """(exam_point, session, candidate_id, room, seat) for everyone, seats in order."""
    if isinstance(exam_points, Mapping):
        spec = exam_points
    else:
        names = [f"EP{k + 1:03d}" for k in range(exam_points)] if isinstance(exam_points, int) else list(exam_points)
        spec = {ep: {f"S{s + 1}": [None] * candidates_per_session for s in range(sessions_per_point)} for ep in names}
    given = iter(candidate_ids or ())
    out, serial = [], 0
    for ep, sessions in spec.items():
        for session, people in sessions.items():
            for k, person in enumerate(people):
                serial += 1
                if isinstance(person, Mapping):
                    cid = str(person["candidate_id"])
                    room, seat = str(person.get("room", "R1")), str(person.get("seat", f"{k + 1:02d}"))
                else:
                    cid = str(person) if person is not None else next(given, None) or f"2024{serial:08d}"
                    room, seat = "R1", f"{k + 1:02d}"
                out.append((ep, session, cid, room, seat))
    return out


def simulate_tables(seed: int, exam_points: int | Sequence[str] | Layout = 20, *, sessions_per_point: int = 3,
                    candidates_per_session: int = 40, candidate_ids: Sequence[str] | None = None, n_items: int = 60,
                    planted_share: float = 0.25, pass_mark: float = 60.0, callback_share: float = 0.15,
                    with_responses: bool = True, planted: Mapping[str, str] | None = None,
                    realistic: bool = False, misconduct: bool = True, score_max: float = 100.0) -> SimulatedRecords:
    """Simulate roster, scores, responses, callbacks and certificates in memory, with the truth.

    ``planted`` names exam points and their misconduct (a ``CENTRE_PLANTS`` value) instead of
    drawing them at random, so sample media can put the irregularities where its footage does.
    """
    rng = np.random.default_rng(seed)
    layout = _layout(exam_points, sessions_per_point, candidates_per_session, candidate_ids)
    ep_of = np.array([r[0] for r in layout], dtype=object)
    session_of = np.array([r[1] for r in layout], dtype=object)
    cid = np.array([r[2] for r in layout], dtype=object)
    room = np.array([r[3] for r in layout], dtype=object)
    seat = np.array([r[4] for r in layout], dtype=object)
    n, J = len(cid), n_items
    eps, ep_idx = np.unique(ep_of, return_inverse=True)
    groups, group_idx = np.unique(np.char.add(ep_of.astype(str), "\x1f" + session_of.astype(str)), return_inverse=True)

    # exam points with planted misconduct, each given one kind in turn
    n_planted = int(round(planted_share * len(eps))) if len(eps) >= 4 and misconduct else 0
    planted_eps = rng.permutation(len(eps))[:n_planted]
    plant_of_ep = {int(e): CENTRE_PLANTS[k % len(CENTRE_PLANTS)] for k, e in enumerate(planted_eps)}
    if planted is not None:
        unknown = sorted(set(planted.values()) - set(CENTRE_PLANTS)) + sorted(set(planted) - set(map(str, eps)))
        if unknown:
            raise ValueError(f"planted names unknown exam points or plants: {unknown}")
        plant_of_ep = {int(np.flatnonzero(eps == ep)[0]): kind for ep, kind in planted.items()}
    ep_plant = np.array([plant_of_ep.get(int(e), "") for e in ep_idx], dtype=object)

    # items: 2PL discrimination and difficulty, 4 options, lognormal time intensity
    if realistic:
        a = rng.lognormal(0.0, 0.3, J)
        b = rng.normal(-0.6, 1.0, J)
    else:
        a = rng.lognormal(0.2, 0.25, J)
        b = rng.normal(-0.8, 0.9, J)
    key = rng.integers(0, 4, J)
    distractors = rng.dirichlet(np.full(3, 1.5), J)
    if realistic:
        beta = rng.normal(np.log(55.0), 0.45, J)
        alpha = np.exp(rng.normal(np.log(1.7), 0.25, J))
        compromised = np.sort(rng.permutation(J)[: max(1, int(round(rng.uniform(0.2, 0.4) * J)))])
    else:
        beta = rng.normal(np.log(25.0), 0.35, J)
        alpha = rng.uniform(1.6, 2.6, J)
        compromised = np.sort(rng.permutation(J)[: max(1, J // 5)])

    theta = rng.normal(0, 0.3, len(eps))[ep_idx] + rng.normal(0, 1, n)
    tau = rng.normal(0, 0.1, len(eps))[ep_idx] + rng.normal(0, 0.25, n)
    if realistic:  # faster candidates tend to be abler (a modest correlation, as fitted)
        tau = tau + 0.08 * theta
    kind = np.full(n, "", dtype=object)

    # proxies: one ringer answers for 3-6 candidates in each session of a proxy exam point
    proxy_groups: list[list[int]] = []
    copy_clusters: list[list[int]] = []
    for g in range(len(groups)):
        members = np.flatnonzero(group_idx == g)
        if len(members) < 8:
            continue
        plant = ep_plant[members[0]]
        n_clusters = 2 if plant == "copying" else int(rng.random() < 0.1) * int(misconduct)
        free = members.copy()
        for _ in range(n_clusters):
            size = int(rng.integers(3, 7))
            if len(free) <= size:  # a small session has room for fewer clusters
                break
            start = int(rng.integers(0, len(free) - size))
            cluster = [int(i) for i in free[start:start + size]]
            free = np.setdiff1d(free, cluster)
            copy_clusters.append(cluster)
            kind[cluster] = "copying"
        if plant == "proxy" and len(free) >= 3:
            size = min(int(rng.integers(3, 7)), len(free))
            group = [int(i) for i in rng.choice(free, size, replace=False)]
            proxy_groups.append(group)
            kind[group] = "proxy"

    leak_share = rng.uniform(0.3, 0.6) if realistic else 0.35
    leak = (ep_plant == "leak") & (kind == "") & (rng.random(n) < leak_share)
    leak |= (kind == "") & (rng.random(n) < 0.003 * int(misconduct))
    kind[leak] = "preknowledge"
    rapid = (kind == "") & (rng.random(n) < 0.01)
    kind[rapid] = "rapid_guesser"

    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    reached = np.ones((n, J), dtype=bool)
    if realistic:
        p, logt, reached, speeded = _realistic_times(rng, p, beta, alpha, tau)
        x = rng.random((n, J)) < p
    else:
        x = rng.random((n, J)) < p
        logt = beta - tau[:, None] + rng.normal(0, 1, (n, J)) / alpha
    resp = _responses(rng, x, key, distractors)

    for group in proxy_groups:  # one ringer's answers, lightly varied per sitting
        r_theta, r_tau = rng.normal(2.0, 0.3), rng.normal(0.6, 0.1)
        rx = rng.random(J) < 1 / (1 + np.exp(-a * (r_theta - b)))
        rr = _responses(rng, rx[None, :], key, distractors)[0]
        for i in group:
            same = rng.random(J) < 0.85
            own_x = rng.random(J) < 1 / (1 + np.exp(-a * (r_theta - b)))
            own_r = _responses(rng, own_x[None, :], key, distractors)[0]
            x[i] = np.where(same, rx, own_x)
            resp[i] = np.where(same, rr, own_r)
            logt[i] = beta - r_tau + rng.normal(0, 1, J) / alpha
    for cluster in copy_clusters:  # everyone copies most items from one shared sheet
        source = cluster[0]
        for i in cluster[1:]:
            copied = rng.random(J) < rng.uniform(0.5, 0.9)
            x[i, copied] = x[source, copied]
            resp[i, copied] = resp[source, copied]
    pk = np.flatnonzero(kind == "preknowledge")
    if len(pk) and realistic:
        # each buyer knows part of the leak (what they memorised), sometimes misremembers the
        # key, and answers what they know faster by a factor of their own
        sub = np.ix_(pk, compromised)
        known = rng.random((len(pk), len(compromised))) < rng.uniform(_KNOW[0], _KNOW[1], (len(pk), 1))
        right = known & (rng.random(known.shape) < 0.95)
        x[sub] = np.where(known, right, x[sub])
        resp[sub] = np.where(right, key[compromised], resp[sub])
        speedup = rng.uniform(np.log(_SPEEDUP[0]), np.log(_SPEEDUP[1]), (len(pk), 1)) + rng.normal(0, 0.2, known.shape)
        logt[sub] = np.where(known, logt[sub] - speedup, logt[sub])
        reached[pk] = True
    elif len(pk):
        sub = np.ix_(pk, compromised)
        known = rng.random((len(pk), len(compromised))) < 0.98
        x[sub] = x[sub] | known
        resp[sub] = np.where(known, key[compromised], resp[sub])
        logt[sub] = np.where(known, logt[sub] - rng.uniform(np.log(3), np.log(6), known.shape), logt[sub])
    rg = np.flatnonzero(rapid)
    if len(rg):
        resp[rg] = rng.integers(0, 4, (len(rg), J))
        x[rg] = resp[rg] == key
        logt[rg] = np.log(rng.uniform(2, 6, (len(rg), J)))
    if realistic:
        # omitted items: some candidates leave hard items blank (scored wrong, time recorded)
        propensity = np.where(rng.random(n) < 0.6, 0.0, rng.uniform(0.0, 0.06, n))
        hard = 1 / (1 + np.exp(-(b[None, :] - theta[:, None])))
        omitted = (rng.random((n, J)) < propensity[:, None] * 2 * hard) & reached & (kind == "")[:, None]
        x &= ~omitted
        resp[omitted] = -1
        x &= reached
    else:
        omitted = np.zeros((n, J), dtype=bool)

    points = score_max / J
    total = x.sum(axis=1) * points
    infl = np.flatnonzero((ep_plant == "score_inflation") & (total < pass_mark) & (total >= pass_mark - 12) & (kind == ""))
    for i in infl:  # an insider turns wrong answers right until the candidate just passes
        need = int(np.ceil((pass_mark - total[i]) / points)) + int(rng.integers(0, 3))
        wrong = np.flatnonzero(~x[i] & reached[i])
        flip = rng.choice(wrong, min(need, len(wrong)), replace=False)
        x[i, flip] = True
        resp[i, flip] = key[flip]
    kind[infl] = "inflated"
    total = np.round(x.sum(axis=1) * points, 2)
    seconds = np.round(np.exp(logt), 1).astype(np.float32)
    seconds = np.maximum(seconds, 1.0)
    seconds[~reached] = 0.0

    # timetable: each exam point sits on its own day, sessions at 09:00, 14:00, next day 09:00 ...
    day0 = datetime(2024, 6, 3, 9, 0)
    sess_names = {s: k for k, s in enumerate(dict.fromkeys(session_of))}
    start = np.array([day0 + timedelta(days=int(e) * 2 + sess_names[s] // 2, hours=5 * (sess_names[s] % 2))
                      for e, s in zip(ep_idx, session_of)], dtype="datetime64[s]")
    started = start + rng.integers(0, 180, n).astype("timedelta64[s]")
    limit = 7200 if not realistic else max(7200, int(np.exp(beta).sum() * 1.3))
    submitted = started + np.minimum(seconds.sum(axis=1), limit).astype(np.int64).astype("timedelta64[s]")

    names = np.array([_SURNAMES[i % len(_SURNAMES)] + _GIVEN[j % len(_GIVEN)] + _GIVEN[k % len(_GIVEN)]
                      for i, j, k in rng.integers(0, 1000, (n, 3))], dtype=object)
    births = date(1965, 1, 1) + np.array([timedelta(days=int(d)) for d in rng.integers(0, 35 * 365, n)])
    ids = np.array([make_id_number(_REGIONS[r], d, s) for r, d, s in
                    zip(rng.integers(0, len(_REGIONS), n), births, rng.integers(0, 1000, n))], dtype=object)
    phones = np.array([f"1{rng.integers(3, 10)}{rng.integers(0, 10**9):09d}" for _ in range(n)], dtype=object)
    category = np.array([CATEGORIES[e % len(CATEGORIES)] for e in ep_idx], dtype=object)
    rows = np.arange(2, n + 2)
    roster = Roster(cid, ep_of, session_of, names, ids, phones, room, seat, category, rows, "roster.csv",
                    frozenset({"name", "id_number", "phone", "room", "seat", "category"}))
    passed = (total >= pass_mark).astype(np.int8)
    scores = Scores(cid, ep_of, session_of, total.astype(np.float64), passed, np.full(n, pass_mark), started,
                    submitted, rows, "scores.csv", frozenset({"passed", "pass_mark", "started_at", "submitted_at"}))

    responses = None
    if with_responses:
        # a not-reached item has no row at all; an omitted one has a row with an empty answer
        on = reached.ravel()
        responses = Responses(
            candidate_ids=cid, item_ids=np.array([f"Q{j + 1:03d}" for j in range(J)], dtype=object),
            response_labels=np.array(list("ABCD"), dtype=object),
            person=np.repeat(np.arange(n, dtype=np.int32), J)[on], item=np.tile(np.arange(J, dtype=np.int32), n)[on],
            response=resp.astype(np.int16).ravel()[on], correct=x.astype(np.int8).ravel()[on], seconds=seconds.ravel()[on],
            path="responses.csv",
        )

    callbacks, admissions = _callbacks(rng, cid, ep_plant, kind, submitted, callback_share)
    certificates, forged = _certificates(rng, cid, ids, names, ep_of, session_of, category, passed, submitted, ep_plant)
    truth = {
        "seed": seed,
        "n_candidates": n,
        "n_items": J,
        "pass_mark": pass_mark,
        "candidates": {str(cid[i]): str(kind[i]) for i in np.flatnonzero(kind != "")},
        "cheater_kinds": list(CHEATER_KINDS),
        "planted_exam_points": {str(eps[e]): k for e, k in plant_of_ep.items()},
        "compromised_items": [f"Q{j + 1:03d}" for j in compromised] if len(pk) or not realistic else [],
        "realistic": realistic,
        "score_max": score_max,
        "omitted_answers": int(omitted.sum()),
        "not_reached_answers": int((~reached).sum()),
        "copy_clusters": [[str(cid[i]) for i in c] for c in copy_clusters],
        "proxy_groups": [[str(cid[i]) for i in g] for g in proxy_groups],
        "callback_admissions": admissions,
        "forged_certificates": forged,
    }
    tables = RecordsTables(roster=roster, scores=scores, responses=responses, callbacks=callbacks, certificates=certificates)
    return SimulatedRecords(tables, truth, {"a": a, "b": b, "beta": beta, "alpha": alpha, "key": key})


def _realistic_times(rng: np.random.Generator, p: np.ndarray, beta: np.ndarray, alpha: np.ndarray, tau: np.ndarray):
    """(p, log seconds, reached, speeded): heavy-tailed times with breaks, and end-of-form
    speededness that makes rushed answers faster and closer to guessing."""
    n, J = p.shape
    resid = rng.standard_t(5, (n, J)) * np.sqrt(3 / 5)  # unit variance, heavier tails than normal
    spread = rng.lognormal(0.0, 0.2, n)[:, None]  # some candidates are steadier than others
    logt = beta - tau[:, None] + spread * resid / alpha
    slow = rng.random((n, J)) < 0.03  # re-reading, second thoughts
    logt = np.where(slow, logt + rng.uniform(0.5, 1.8, (n, J)), logt)
    brk = rng.random((n, J)) < 0.002  # a break: water, toilet, a system hiccup
    logt = np.where(brk, np.log(np.exp(logt) + rng.uniform(60, 600, (n, J))), logt)
    speeded = rng.random(n) < 0.12
    pos = np.arange(J) / max(J - 1, 1)
    start = rng.uniform(0.75, 0.95, n)[:, None]
    ramp = np.clip((pos[None, :] - start) / np.maximum(1 - start, 1e-6), 0, 1) * speeded[:, None]
    logt = logt - ramp * np.log(4.0)
    p = p * (1 - 0.6 * ramp) + 0.25 * 0.6 * ramp
    reached = np.ones((n, J), dtype=bool)
    stop = speeded & (rng.random(n) < 0.4)
    last = (J - rng.integers(1, max(2, J // 10), n))[:, None]
    reached[stop] = (np.arange(J)[None, :] < last)[stop]
    return p, logt, reached, speeded


def _responses(rng: np.random.Generator, x: np.ndarray, key: np.ndarray, distractors: np.ndarray) -> np.ndarray:
    """Option codes: the key where correct, otherwise a distractor drawn from the item's own pull."""
    cum = np.cumsum(distractors, axis=1)
    u = rng.random(x.shape)
    pick = (u[..., None] > cum[None, :, :2]).sum(axis=2)  # 0..2 among the three wrong options
    wrong = pick + (pick >= key[None, :])  # skip over the key
    return np.where(x, key[None, :], wrong).astype(np.int16)


def _callbacks(rng, cid, ep_plant, kind, submitted, share):
    n = len(cid)
    called = np.flatnonzero(rng.random(n) < share)
    fraud = ep_plant[called] == "training_fraud"
    proxy = kind[called] == "proxy"
    u = rng.random(len(called))
    p_unreach = np.where(fraud, 0.30, 0.06)
    outcome = np.where(u < p_unreach, np.where(rng.random(len(called)) < 0.5, 1, 2),
                       np.where(rng.random(len(called)) < 0.03, 3, 0))
    reached = outcome == 0
    no_train = rng.random(len(called)) < np.where(fraud, 0.5, 0.04)
    not_self = (rng.random(len(called)) < np.where(fraud, 0.15, 0.004)) | (proxy & (rng.random(len(called)) < 0.5))
    paid = rng.random(len(called)) < np.where(fraud, 0.4, 0.03)
    unsure = rng.random(len(called)) < 0.05

    def answer(flag_bad):
        v = np.where(flag_bad, 0, 1).astype(np.int8)
        v[unsure] = -1
        v[~reached] = -1
        return v

    attended = answer(no_train)
    in_person = answer(not_self)
    paid_v = np.where(paid, 1, 0).astype(np.int8)
    paid_v[unsure | ~reached] = -1
    called_at = submitted[called] + (rng.integers(7, 30, len(called)) * 86400).astype("timedelta64[s]")
    admissions = {str(cid[i]): "did_not_sit_in_person" for i in called[reached & (in_person == 0)]}
    cb = Callbacks(cid[called], called_at, OUTCOME_NAMES[outcome], attended, in_person, paid_v,
                   np.full(len(called), "", dtype=object), np.arange(2, len(called) + 2), "callbacks.csv")
    return cb, admissions


def _certificates(rng, cid, ids, names, ep_of, session_of, category, passed, submitted, ep_plant):
    issue = np.flatnonzero((passed == 1) & (rng.random(len(cid)) > 0.003))  # a few clerical delays
    forged: list[dict[str, str]] = []
    extra = []
    for e in np.unique(ep_of[ep_plant == "forged_certificates"]):
        at = np.flatnonzero(ep_of == e)
        failed = at[passed[at] == 0]
        for i in rng.choice(failed, min(len(failed), max(2, len(at) // 25)), replace=False):
            extra.append(int(i))
            forged.append({"candidate_id": str(cid[i]), "kind": "certificate_without_pass"})
        for i in rng.choice(at[passed[at] == 1], min(2, int((passed[at] == 1).sum())), replace=False):
            extra.append(int(i))
            forged.append({"candidate_id": str(cid[i]), "kind": "multiple_certificates"})
    holders = np.concatenate([issue, np.array(extra, dtype=np.int64)])
    m = len(holders)
    serial = rng.permutation(10**6)[:m]
    cert_no = np.array([f"建安A{2024}{s:06d}" for s in serial], dtype=object)
    issued = (submitted[holders].astype("datetime64[D]") + rng.integers(10, 25, m).astype("timedelta64[D]")).astype("datetime64[s]")
    certs = Certificates(cert_no, cid[holders], ids[holders], names[holders], category[holders], issued,
                         ep_of[holders], session_of[holders], np.arange(2, m + 2), "certificates.csv",
                         frozenset({"candidate_id", "id_number", "name", "category"}))
    return certs, forged


# -- files ---------------------------------------------------------------------------------------

_ZH = {"candidate_id": "准考证号", "exam_point": "考点", "session": "场次", "name": "姓名", "id_number": "身份证号",
       "phone": "手机号", "room": "考场", "seat": "座位号", "category": "操作类别", "total": "总分", "passed": "是否合格",
       "pass_mark": "合格线", "started_at": "开始时间", "submitted_at": "交卷时间", "item_id": "题号", "response": "作答",
       "correct": "是否正确", "seconds": "用时", "called_at": "回访时间", "outcome": "回访结果",
       "attended_training": "是否参加培训", "sat_exam_in_person": "是否本人参考", "paid_intermediary": "是否通过中介缴费",
       "notes": "备注", "certificate_no": "证书编号", "issued_at": "发证日期"}


def _fmt_time(a: np.ndarray) -> list[str]:
    return ["" if np.isnat(t) else str(t).replace("T", " ") for t in a]


def _yesno(a: np.ndarray) -> list[str]:
    return [{1: "yes", 0: "no", -1: "unknown"}[int(v)] for v in a]


def _write(path: Path, header: list[str], cols: list[Sequence[Any]], zh: bool, encoding: str = "utf-8") -> None:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow([_ZH.get(h, h) if zh else h for h in header])
        w.writerows(zip(*cols))


def write_tables(tables: RecordsTables, out_dir: str | Path, *, zh_headers: bool = False) -> dict[str, Path]:
    """Write the tables as the CSV files an exam authority would export."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    r, s = tables.roster, tables.scores
    paths = {"roster": out / "roster.csv", "scores": out / "scores.csv"}
    _write(paths["roster"], ["candidate_id", "exam_point", "session", "name", "id_number", "phone", "room", "seat", "category"],
           [r.candidate_id, r.exam_point, r.session, r.name, r.id_number, r.phone, r.room, r.seat, r.category], zh_headers)
    _write(paths["scores"], ["candidate_id", "exam_point", "session", "total", "passed", "pass_mark", "started_at", "submitted_at"],
           [s.candidate_id, s.exam_point, s.session, [f"{t:g}" for t in s.total], s.passed,
            [f"{t:g}" for t in s.pass_mark], _fmt_time(s.started_at), _fmt_time(s.submitted_at)], zh_headers)
    if tables.responses is not None:
        p = tables.responses
        paths["responses"] = out / "responses.csv"
        with open(paths["responses"], "w", newline="", encoding="utf-8") as fh:
            fh.write(",".join(_ZH[h] if zh_headers else h for h in ("candidate_id", "item_id", "response", "correct", "seconds")) + "\n")
            step = 1_000_000
            for lo in range(0, len(p), step):
                sl = slice(lo, lo + step)
                # an omitted answer (code -1) is written empty: the row stays, with its time
                labels = np.append(p.response_labels, "")
                cols = [p.candidate_ids[p.person[sl]], p.item_ids[p.item[sl]], labels[p.response[sl]],
                        p.correct[sl].astype(str), np.char.mod("%.1f", p.seconds[sl])]
                fh.write("".join(f"{c},{i},{v},{k},{t}\n" for c, i, v, k, t in zip(*cols)))
    if tables.callbacks is not None:
        c = tables.callbacks
        paths["callbacks"] = out / "callbacks.csv"
        _write(paths["callbacks"], ["candidate_id", "called_at", "outcome", "attended_training", "sat_exam_in_person", "paid_intermediary", "notes"],
               [c.candidate_id, _fmt_time(c.called_at), c.outcome, _yesno(c.attended_training), _yesno(c.sat_exam_in_person),
                _yesno(c.paid_intermediary), c.notes], zh_headers)
    if tables.certificates is not None:
        k = tables.certificates
        paths["certificates"] = out / "certificates.csv"
        _write(paths["certificates"], ["certificate_no", "candidate_id", "id_number", "name", "category", "issued_at", "exam_point", "session"],
               [k.certificate_no, k.candidate_id, k.id_number, k.name, k.category, [str(t)[:10] for t in k.issued_at],
                k.exam_point, k.session], zh_headers)
    return paths


def simulate_records(out_dir: str | Path, seed: int, exam_points: int | Sequence[str] | Layout = 20, *,
                     candidate_ids: Sequence[str] | None = None, zh_headers: bool = False, **kwargs: Any) -> dict[str, Path]:
    """Simulate records and write ``roster.csv``, ``scores.csv``, ``responses.csv``,
    ``callbacks.csv``, ``certificates.csv`` and ``truth.json`` into ``out_dir``.

    ``exam_points`` is a count, a list of exam-point ids, or ``{exam_point: {session: [candidate
    id, or {"candidate_id", "room", "seat"}]}}`` to match a given seating plan. Further keyword
    arguments go to :func:`simulate_tables`. Returns the written paths by role (``truth`` too).
    """
    sim = simulate_tables(seed, exam_points, candidate_ids=candidate_ids, **kwargs)
    paths = write_tables(sim.tables, out_dir, zh_headers=zh_headers)
    paths["truth"] = Path(out_dir) / "truth.json"
    paths["truth"].write_text(json.dumps(sim.truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return paths
