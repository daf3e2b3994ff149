"""Screens on the realistic simulator: calibrated on clean data, and preknowledge found
without being told which items leaked.

The realistic simulator breaks the screens' own model on purpose (item-specific speed and
discrimination, heavy-tailed times with breaks, omitted and not-reached items, speeded
endings), so a false-positive rate measured here is under misspecification."""

from __future__ import annotations

import numpy as np
import pytest

from examaudit.records.pipeline import PATTERN_SCREENS, run_records
from examaudit.records.screens.calibration import EmpiricalNull
from examaudit.records.screens.irt import TwoPLModel
from examaudit.records.screens.preknowledge import ItemPreknowledge
from examaudit.records.screens.response_time import LognormalRTModel
from examaudit.records.simulate import simulate_tables


def _realistic(seed, misconduct, **kw):
    return simulate_tables(seed, 200, sessions_per_point=1, candidates_per_session=8, n_items=160, realistic=True,
                           misconduct=misconduct, score_max=160, pass_mark=96, **kw)


@pytest.fixture(scope="module")
def clean_run():
    sim = _realistic(31, False)
    return sim, run_records(sim.tables)


def test_realistic_simulator_has_what_real_exams_have():
    sim = _realistic(32, True)
    x, r, t = sim.tables.responses.matrices(sim.tables.scores.candidate_id)
    assert sim.truth["omitted_answers"] > 0 and sim.truth["not_reached_answers"] > 0
    assert ((r == -1) & ~np.isnan(t)).any()  # omitted: a row with a time and no answer
    assert np.isnan(t[:, -1]).any()  # not reached: no row at all
    share = len(sim.truth["compromised_items"]) / 160
    assert 0.2 <= share <= 0.4
    kinds = list(sim.truth["candidates"].values())
    assert 0.015 <= kinds.count("preknowledge") / len(sim.tables.scores) <= 0.06
    assert sim.tables.scores.total.max() <= 160 and (sim.tables.scores.pass_mark == 96).all()
    med = np.nanmedian(t, axis=0)
    assert np.log(med).std() > 0.3  # items differ in time intensity


def test_pattern_screens_are_calibrated_on_clean_realistic_data(clean_run):
    sim, res = clean_run
    honest = np.array([c not in sim.truth["candidates"] for c in res.candidates.candidate_id])
    for screen in PATTERN_SCREENS:
        p = res.candidates.screens[screen][honest]
        p = p[np.isfinite(p)]
        assert len(p) > 1000
        for alpha in (0.01, 0.05):
            # 1.5 alpha plus two binomial standard errors of a sample this size
            assert (p < alpha).mean() <= 1.5 * alpha + 2 * np.sqrt(alpha / len(p)), (screen, alpha)
    # and no screen fires on more than a few percent, nor does the fusion flag many
    assert (res.candidates.q_value <= 0.01).mean() < 0.01
    kinds = [f.kind.value for f in res.findings]
    assert kinds.count("item_compromise") == 0


def test_preknowledge_found_without_the_leaked_items():
    sim = _realistic(33, True, planted={"EP001": "leak", "EP002": "leak", "EP003": "leak", "EP004": "leak"})
    x, _, t = sim.tables.responses.matrices(sim.tables.scores.candidate_id)
    irt = TwoPLModel().fit(x)
    theta = irt.theta(x)
    rt = LognormalRTModel().fit(t)
    _, z, m = rt.residuals(t)
    res = ItemPreknowledge().fit_score(x, z, m, irt, theta, rt.alpha_)
    kind = np.array([sim.truth["candidates"].get(c, "") for c in sim.tables.scores.candidate_id])
    buyers = kind == "preknowledge"
    assert buyers.sum() >= 10
    cut = np.quantile(res.p_value[kind == ""], 0.01)
    assert (res.p_value[buyers] < cut).mean() >= 0.6
    leaked = np.isin(sim.tables.responses.item_ids, sim.truth["compromised_items"])
    found = res.suspected_items
    assert found.sum() >= 0.5 * leaked.sum() and (found & leaked).sum() >= 0.9 * found.sum()


def test_empirical_null_does_not_chase_the_tail():
    rng = np.random.default_rng(5)
    z = np.r_[rng.normal(1.0, 1.5, 4000), rng.normal(12, 1, 150)]  # 4% far out in the tested tail
    p = EmpiricalNull().fit(z).p_upper(z)
    assert (p[:4000] < 0.01).mean() <= 0.015 and (p[4000:] < 1e-4).all()


def test_records_run_reports_buyers_and_leaked_items():
    sim = _realistic(34, True, planted={"EP001": "leak", "EP002": "leak", "EP003": "leak", "EP004": "leak", "EP005": "leak"})
    res = run_records(sim.tables)
    buyers = {c for c, k in sim.truth["candidates"].items() if k == "preknowledge"}
    flagged = {f.candidate_id for f in res.findings if f.kind.value == "item_preknowledge"}
    assert len(flagged & buyers) >= 0.5 * len(buyers) and len(flagged - buyers) <= 2
    items = {f.details["item_id"] for f in res.findings if f.kind.value == "item_compromise"}
    leaked = set(sim.truth["compromised_items"])
    assert len(items & leaked) >= 0.5 * len(leaked) and len(items - leaked) <= 2
    f = next(f for f in res.findings if f.kind.value == "item_compromise")
    assert f.exam_point in {"EP001", "EP002", "EP003", "EP004", "EP005"} and "retire" in f.reason_en
    # every rapid-correct reason names a positive number of very fast answers
    for f in res.findings:
        if f.kind.value == "rapid_correct_answers":
            assert f.details["very_fast_answers"] > 0
