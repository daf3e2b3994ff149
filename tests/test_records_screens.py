"""Each screen on simulated data: it finds what was planted and stays quiet otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from examaudit.records.fusion import benjamini_hochberg, cauchy_combination, harmonic_mean_p
from examaudit.records.screens.exam_point import ScoreBunching
from examaudit.records.screens.funnel import ProportionFunnel
from examaudit.records.screens.irt import PersonFit, TwoPLModel
from examaudit.records.screens.response_time import LognormalRTModel, rapid_correct, rt_person_fit
from examaudit.records.screens.shrinkage import BetaBinomialShrinkage, wilson_interval
from examaudit.records.screens.similarity import AnswerSimilarity
from examaudit.records.simulate import simulate_tables


@pytest.fixture(scope="module")
def sim():
    return simulate_tables(seed=101, exam_points=12, sessions_per_point=2, candidates_per_session=40, n_items=50)


def _matrices(sim):
    sc = sim.tables.scores
    return sim.tables.responses.matrices(sc.candidate_id)


def test_funnel_null_is_calibrated_and_flags_outlier():
    rng = np.random.default_rng(1)
    n = rng.integers(30, 400, 300)
    ev = rng.binomial(n, 0.7)
    p = ProportionFunnel().fit(ev, n).score(ev, n).p_value
    assert 0.02 < (p < 0.05).mean() < 0.09
    ev2 = ev.copy()
    ev2[0] = n[0]
    assert ProportionFunnel().fit(ev2, n).score(ev2, n).p_value[0] < 1e-3


def test_shrinkage_pulls_small_centres_in():
    ev, n = np.array([12, 700, 350]), np.array([12, 1000, 500])
    post = BetaBinomialShrinkage().fit(ev, n).score(ev, n)
    assert post.mean[0] < 0.95 and abs(post.mean[1] - 0.7) < 0.01
    lo, hi = wilson_interval(np.array([0]), np.array([10]))
    assert lo[0] == 0 and 0.2 < hi[0] < 0.35


def test_bunching_finds_inflation(sim):
    sc = sim.tables.scores
    b = ScoreBunching().fit(sc.exam_point, sc.total, sc.pass_mark)
    tab = b.score(sc.exam_point, sc.total, sc.pass_mark)
    inflated = [e for e, k in sim.truth["planted_exam_points"].items() if k == "score_inflation"]
    assert inflated
    for e in inflated:
        assert tab.p_value[tab.lookup(e)] < 0.01
    assert np.median(tab.p_value) > 0.2


def test_irt_and_person_fit(sim):
    x, _, _ = _matrices(sim)
    m = TwoPLModel().fit(x)
    theta = m.theta(x)
    assert np.corrcoef(m.b_, sim.items["b"])[0, 1] > 0.8
    lz, p = PersonFit(m).score(x, theta)
    honest = np.array([c not in sim.truth["candidates"] for c in sim.tables.scores.candidate_id])
    assert abs(np.median(lz[honest])) < 0.5 and 0.3 < lz[honest].std() < 1.6


def test_rapid_correct_finds_preknowledge(sim):
    x, _, t = _matrices(sim)
    m = TwoPLModel().fit(x)
    rt = LognormalRTModel().fit(t)
    tau, z, mask = rt.residuals(t)
    stat, p, n_fast, n_right, expected = rapid_correct(z, x, m.prob(m.theta(x)), mask)
    kind = np.array([sim.truth["candidates"].get(c, "") for c in sim.tables.scores.candidate_id])
    assert (kind == "preknowledge").any()
    # the basic simulator's buyers answer a fifth of the paper three to six times faster and
    # right; the leaked items are mostly easy, so "right beyond ability" is a modest excess
    # on ten answers and this screen alone is weak evidence (the preknowledge screen, which
    # also compares speed on the leaked items with the rest, is the strong one)
    assert np.median(n_fast[kind == "preknowledge"]) >= 5 > np.median(n_fast[kind == ""])
    assert np.median(p[kind == "preknowledge"]) < 0.3 < np.median(p[kind == ""])
    assert np.mean(p[kind == ""] < 0.01) < 0.03
    lt, u, p_lt = rt_person_fit(z, mask)
    assert np.median(p_lt[kind == "preknowledge"]) < 1e-3
    assert np.mean(p_lt[kind == ""] < 0.01) < 0.05


def test_rapid_correct_without_very_fast_answers_is_no_evidence():
    # the bug on real data: "T=5.0; 0 of 0 very fast answers right" was significant
    rng = np.random.default_rng(4)
    x = (rng.random((50, 40)) < 0.9).astype(np.float32)
    p = np.full((50, 40), 0.3, dtype=np.float32)  # far more right than "expected"
    z = rng.uniform(-1.5, 3.0, (50, 40)).astype(np.float32)  # but nothing very fast
    stat, pv, n_fast, n_right, _ = rapid_correct(z, x, p, np.ones((50, 40), bool))
    assert (n_fast == 0).all() and (stat == 0).all() and (pv == 1).all()
    z[:, :5] = -3.0  # five very fast answers each, right about as often as the rest
    stat, pv, n_fast, n_right, _ = rapid_correct(z, x, p, np.ones((50, 40), bool))
    assert (n_fast == 5).all() and (n_right <= 5).all() and np.median(pv) < 0.05


def test_similarity_finds_copying_cluster(sim):
    x, r, _ = _matrices(sim)
    sc = sim.tables.scores
    m = TwoPLModel().fit(x)
    p = m.prob(m.theta(x))
    group = np.unique(np.char.add(sc.exam_point.astype(str), sc.session.astype(str)), return_inverse=True)[1]
    res = AnswerSimilarity().fit(r, x).score(group, r, x, p, sim.tables.roster.room, sim.tables.roster.seat)
    ids = sc.candidate_id
    flagged = {frozenset((ids[q.a], ids[q.b])) for q in res.pairs}
    cluster = sim.truth["copy_clusters"][0]
    assert frozenset(cluster[:2]) in flagged
    assert any(q.adjacent_seats for q in res.pairs)
    honest = np.array([c not in sim.truth["candidates"] for c in ids])
    assert np.mean(res.p_value[honest] < 0.01) < 0.03


def test_combinations():
    p = np.array([[1e-8, 0.9, 0.9], [0.5, 0.5, 0.5], [0.01, np.nan, np.nan]])
    h = harmonic_mean_p(p)
    assert h[0] < 1e-6 and h[1] > 0.5 and h[2] == pytest.approx(0.01)
    c = cauchy_combination(p)
    assert c[0] < 1e-6 and c[1] == pytest.approx(0.5)
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    assert q.tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    # under the null, HMP with the Vovk-Wang factor is conservative
    rng = np.random.default_rng(0)
    null = harmonic_mean_p(rng.random((20000, 6)))
    assert (null < 0.05).mean() < 0.05
