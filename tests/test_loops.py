"""Replays found from the packet-size rhythm, and sensor noise that does not fake one."""

import numpy as np
import pytest

from examaudit.scenarios.sensor import SensorNoise
from examaudit.video.loops import gop_pattern, packet_repeats

FPS, N, GOP = 10, 3000, 20


def _rhythm(rng, content):
    """Packet sizes of an encoder with its own size pattern by position in the GOP."""
    shape = 0.4 * rng.normal(0.0, 1.0, GOP)
    return np.exp(5.0 + content + shape[np.arange(N) % GOP])


def test_replay_off_the_gop_grid_is_found_despite_the_encoders_gop_rhythm():
    # The replay is re-encoded (its sizes only resemble the original's) and its offset, 116.8 s,
    # is not a whole number of GOPs, so the GOP rhythm sits at another phase in the replay than
    # in its original. Without taking that rhythm out, every whole-GOP offset matched about as
    # well as the true one and the replay was lost (seed 15 of the integrity suite).
    rng = np.random.default_rng(0)
    content = rng.normal(0.0, 0.4, N)
    content[2000:2600] = content[832:1432] + rng.normal(0.0, 0.25, 600)
    t = np.arange(N) / FPS
    key = np.arange(N) % GOP == 0
    reps = packet_repeats(t, _rhythm(rng, content), key)
    assert len(reps) == 1
    assert reps[0].offset_s == pytest.approx(116.8, abs=0.2)
    assert reps[0].start_s == pytest.approx(200, abs=3) and reps[0].end_s == pytest.approx(260, abs=3)
    # The same encoder rhythm over footage that repeats nothing: no repeat.
    assert packet_repeats(t, _rhythm(rng, rng.normal(0.0, 0.4, N)), key) == []


def test_gop_pattern_follows_the_keyframes_not_a_fixed_period():
    key = np.zeros(60, bool)
    key[[0, 10, 20, 30, 45]] = True  # one longer GOP, as after a scene cut
    x = np.zeros(60)
    x[key] = 3.0
    x[np.flatnonzero(key)[:-1] + 1] = 1.0
    x[40:45] = x[55:60] = 2.0
    pat = gop_pattern(x, key)
    assert np.allclose(pat[key], 3.0) and np.allclose(pat[[1, 11, 21, 31]], 1.0)
    assert np.allclose(pat[[12, 33]], 0.0)
    assert np.allclose(pat[40:45], 0.0) and np.allclose(pat[55:], 0.0)  # in fewer than 4 GOPs: left alone


def test_sensor_noise_does_not_repeat_at_other_offsets():
    # A still room's packet rhythm is its noise and flicker; if those come back almost
    # periodically, the room looks replayed from itself at many offsets.
    noise = SensorNoise(36, 64, seed=15)
    n = 3000
    change = np.abs(np.diff([noise.flicker(i) for i in range(n)])).astype(float)
    change -= change.mean()
    worst = max(float(np.dot(change[lag:], change[:-lag])) / float(np.dot(change, change)) for lag in range(5, 1500))
    assert worst < 0.2
    assert len({noise.pick(i) for i in range(n)}) == n
    # ... but a replayed frame repeats its noise exactly.
    frame = lambda i: noise.apply(np.full((36, 64, 3), 100, np.uint8), i)
    assert np.array_equal(frame(123), frame(123)) and not np.array_equal(frame(123), frame(124))
