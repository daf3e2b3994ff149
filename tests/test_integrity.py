"""Tamper checks: pure functions on synthetic pictures and feature arrays, and one tiny clip."""

import numpy as np
import pytest

from examaudit.findings import FindingKind
from examaudit.video.integrity import (
    IntegrityCheck,
    Thresholds,
    classify_samples,
    find_splices,
    frame_features,
    frozen_runs,
    hamming,
    learn_reference,
    phash64,
    register_shift,
    registered_moves,
    step_scores,
    still_difference,
)
from examaudit.video.loops import find_loops, packet_repeats
from examaudit.video.sampler import Sample


def room(seed: int = 0, h: int = 180, w: int = 320, layout: int = 99) -> np.ndarray:
    """A textured 'room': blocks, lines and text-like edges, plus sensor noise."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w), 120, np.uint8)
    base = np.random.default_rng(layout)
    for _ in range(160):
        x, y = base.integers(0, w - 30), base.integers(20, h - 40)
        img[y:y + base.integers(5, 30), x:x + base.integers(5, 30)] = base.integers(20, 240)
    noise = rng.normal(0, 2.5, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def feats(images):
    return [frame_features(g) for g in images]


def test_black_and_overexposed_are_absolute():
    f = feats([np.full((180, 320), 6, np.uint8), np.full((180, 320), 252, np.uint8), room()])
    ref = learn_reference(f, [], Thresholds())
    labels = classify_samples(f, ref, np.zeros(3), np.ones(3))
    assert list(labels) == ["video_black", "video_overexposed", ""]


def test_covered_and_defocused_relative_to_reference():
    import cv2

    normal = [room(i) for i in range(8)]
    covered = np.clip(np.full((180, 320), 35.0) + np.random.default_rng(1).normal(0, 2, (180, 320)), 0, 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(room(20), (0, 0), 6)
    f = feats(normal + [covered, blurred])
    ref = learn_reference(f, [], Thresholds())
    labels = classify_samples(f, ref, np.zeros(10), np.ones(10))
    assert list(labels[:8]) == [""] * 8
    assert labels[8] == "camera_covered" and labels[9] == "camera_defocused"


def test_dim_lights_are_not_defocus():
    normal = [room(i) for i in range(8)]
    dim = (room(30).astype(np.float32) * 0.45 + 20).astype(np.uint8)
    f = feats(normal + [dim])
    labels = classify_samples(f, learn_reference(f, [], Thresholds()), np.zeros(9), np.ones(9))
    assert labels[8] == ""


def test_phase_correlation_finds_the_move():
    a = room(0)
    b = np.roll(a, 12, axis=1)
    dx, dy, _ = register_shift(a.astype(np.float32), b.astype(np.float32))
    assert dx == pytest.approx(12, abs=0.6) and abs(dy) < 0.6


def test_still_room_is_not_frozen_but_a_repeated_picture_is():
    a, b = room(1), room(2)
    assert still_difference(a, b) > 1.0  # sensor noise
    assert still_difference(a, a.copy()) == 0.0
    t = np.arange(10) * 5.0
    still = np.array([np.nan, 1.2, 1.1, 0.0, 0.0, 0.0, 0.0, 1.3, 1.2, 1.1])
    assert frozen_runs(t, still, np.ones(10, bool), Thresholds()) == [(2, 6)]
    # Two repeats in a row is chance (a noise bank repeating), not a frozen feed.
    still2 = np.array([np.nan, 1.2, 0.0, 0.0, 1.0, 1.2, 1.1, 1.3, 1.2, 1.1])
    assert frozen_runs(t, still2, np.ones(10, bool), Thresholds()) == []


def test_phash_is_stable_under_noise_and_changes_with_content():
    assert hamming(phash64(room(1)), phash64(room(2))) <= 4
    assert hamming(phash64(room(1)), phash64(np.fliplr(room(1)))) > 16


def test_visual_loop_needs_repeated_motion():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (90, 160), dtype=np.uint8) for _ in range(10)]
    seq = frames + frames[2:7] + frames[:3]
    t = np.arange(len(seq)) * 5.0
    loops = find_loops([phash64(f) for f in seq], seq, t)
    assert [(lp.a0, lp.b0, lp.length) for lp in loops] == [(2, 10, 5), (0, 15, 3)]
    # A still room repeats every hash, but not its motion: no loop.
    still = [room(i)[:90, :160] for i in range(18)]
    assert find_loops([phash64(f) for f in still], still, t) == []


def test_packet_rhythm_repeat_is_found_and_a_periodic_rhythm_is_not():
    rng = np.random.default_rng(3)
    fps, n = 10, 3000
    size = rng.lognormal(5, 0.4, n)
    size[2000:2600] = size[700:1300]  # replay of 70-130 s at 200-260 s
    key = np.zeros(n, bool)
    key[::20] = True
    t = np.arange(n) / fps
    reps = packet_repeats(t, size, key)
    assert len(reps) == 1
    assert reps[0].start_s == pytest.approx(200, abs=3) and reps[0].end_s == pytest.approx(260, abs=3)
    assert reps[0].offset_s == pytest.approx(130, abs=0.2)
    periodic = np.tile(rng.lognormal(5, 0.4, 128), n // 128 + 1)[:n]
    assert packet_repeats(t, periodic, key) == []


def _run(check, images, step=5.0):
    rows = []
    for i, img in enumerate(images):
        row = {"t_s": i * step}
        check.observe(Sample(i, i * step, i, True, img), row)
        rows.append(row)
    return rows, check.finish(rows)


def test_check_adds_columns_and_trusted_flags():
    import cv2

    imgs = [cv2.cvtColor(room(i), cv2.COLOR_GRAY2BGR) for i in range(24)]
    for i in range(10, 15):
        imgs[i] = np.zeros_like(imgs[i])
    rows, drafts = _run(IntegrityCheck(), imgs)
    for col in ("brightness", "sharpness", "edge_density", "entropy", "shift_px", "phash", "quality", "trusted"):
        assert col in rows[0]
    assert [r["trusted"] for r in rows[9:16]] == [True] + [False] * 5 + [True]
    kinds = [d.kind for d in drafts]
    assert kinds == [FindingKind.video_black]
    assert drafts[0].start_s == 50.0 and drafts[0].end_s == 70.0
    assert "black" in drafts[0].reason_en and "黑" in drafts[0].reason_zh


def test_check_finds_move_with_before_after_pair():
    import cv2

    imgs = [cv2.cvtColor(room(i), cv2.COLOR_GRAY2BGR) for i in range(20)]
    for i in range(12, 20):
        imgs[i] = np.roll(imgs[i], 25, axis=1)
    rows, drafts = _run(IntegrityCheck(), imgs)
    moved = [d for d in drafts if d.kind == FindingKind.camera_moved]
    assert len(moved) == 1 and moved[0].start_s == 60.0
    assert [t for t, _ in moved[0].frames] == [55.0, 60.0]
    assert rows[12]["shift_px"] > 20 and rows[5]["quality"] == "ok"


def test_clean_noisy_room_gives_nothing():
    import cv2

    imgs = [cv2.cvtColor(room(i), cv2.COLOR_GRAY2BGR) for i in range(30)]
    rows, drafts = _run(IntegrityCheck(), imgs)
    assert drafts == [] and all(r["trusted"] for r in rows)


def test_splice_to_other_footage_but_not_someone_walking_in():
    import cv2

    th = Thresholds()
    other = [cv2.add(room(i, layout=7), 25) for i in range(10, 20)]  # another room, other lights
    seq = [room(i) for i in range(10)] + other
    thumbs = [cv2.resize(g, (160, 90), interpolation=cv2.INTER_AREA) for g in seq]
    labels = np.full(len(seq), "", dtype=object)
    assert find_splices(feats(seq), thumbs, labels, th) == [10]
    walked_in = [room(i) for i in range(20)]
    for g in walked_in[10:]:
        g[60:150, 140:180] = 40  # a dark figure that stays
    thumbs = [cv2.resize(g, (160, 90), interpolation=cv2.INTER_AREA) for g in walked_in]
    assert find_splices(feats(walked_in), thumbs, labels, th) == []


def _other_room_settling(drift: int = 2):
    """Ten pictures of this room, then another room whose exposure is still settling."""
    import cv2

    other = [cv2.add(room(i, layout=7), 25 + drift * j) for j, i in enumerate(range(10, 20))]
    seq = [room(i) for i in range(10)] + other
    return seq, [cv2.resize(g, (160, 90), interpolation=cv2.INTER_AREA) for g in seq]


def test_splice_is_found_where_the_picture_jumps_not_where_the_step_score_peaks():
    seq, thumbs = _other_room_settling()
    f = feats(seq)
    steps = step_scores(f)
    # The premise: the step score plateaus around the cut and a later sample edges it out.
    assert steps[9] > 5 and steps[11] > steps[10] > 5
    assert find_splices(f, thumbs, np.full(len(seq), "", dtype=object), Thresholds()) == [10]


def test_a_shift_is_a_move_only_when_undoing_it_explains_the_picture():
    f = feats([room(i) for i in range(7)])
    ref = learn_reference(f, [], Thresholds())
    # Two stretches away from the reference view, with the same kind of numbers: a 53 px shift
    # that explains nothing (a failed registration: undoing it leaves the correlation where it
    # was), then a 12 px shift that explains most of the picture (0.25 -> 0.75).
    shift = np.array([53.0, 53.0, 53.0, 0.2, 12.0, 12.0, 0.2])
    corr = np.array([0.6, 0.6, 0.6, 0.95, 0.75, 0.75, 0.95])
    unshifted = np.array([0.58, 0.6, 0.61, 0.95, 0.25, 0.25, 0.95])
    assert registered_moves(shift, corr, unshifted).tolist() == [False] * 4 + [True, True, False]
    labels = classify_samples(f, ref, shift, corr, corr_unshifted=unshifted)
    assert list(labels) == [""] * 4 + ["camera_moved", "camera_moved", ""]
    # Without the unshifted correlation a shift is not evidence of anything.
    assert list(classify_samples(f, ref, shift, corr)) == [""] * 7

    seq, thumbs = _other_room_settling()
    n = len(seq)
    labels = np.full(n, "", dtype=object)
    shift = np.r_[np.zeros(10), np.full(10, 25.0)]
    corr = np.r_[np.full(10, 0.95), np.full(10, 0.7)]
    # Same numbers, once as a wrong peak (undoing it gains nothing), once as a real move.
    assert find_splices(feats(seq), thumbs, labels, Thresholds(), shift=shift, corr=corr, corr_unshifted=corr) == [10]
    assert find_splices(feats(seq), thumbs, labels, Thresholds(), shift=shift, corr=corr,
                        corr_unshifted=corr - 0.4) == []


def test_cut_to_a_room_that_registers_with_a_wrong_shift_is_a_splice_not_a_move():
    import cv2

    grays = [room(i) for i in range(12)] + [cv2.add(room(i, layout=3), 25) for i in range(12, 24)]
    rows, drafts = _run(IntegrityCheck(), [cv2.cvtColor(g, cv2.COLOR_GRAY2BGR) for g in grays])
    # The premise: phase correlation reports a large, steady shift into the other room.
    assert all(r["shift_px"] > 20 for r in rows[12:16])
    assert [(d.kind, d.start_s, d.end_s) for d in drafts] == [(FindingKind.splice, 55.0, 60.0)]
    assert [r["quality"] for r in rows[11:13]] == ["ok", "splice"]
