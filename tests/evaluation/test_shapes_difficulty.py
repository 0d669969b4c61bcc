"""The hard slice is harder in the ways it claims, and its existence leaves the normal data alone."""

from __future__ import annotations

import numpy as np

from gam_gui.data.shapes import HARD, NORMAL, render_sample


def test_normal_difficulty_is_the_default():
    for seed in (3, 10_000_011):
        a, b = render_sample(seed, 160), render_sample(seed, 160, difficulty=NORMAL)
        assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)


def test_hard_slice_has_more_and_smaller_objects():
    seeds = range(15_000_000, 15_000_030)
    normal = [render_sample(s, 192).labels for s in seeds]
    hard = [render_sample(s, 192, difficulty=HARD).labels for s in seeds]
    side = lambda ls: np.concatenate([lb[:, 3:5].max(1) for lb in ls])  # noqa: E731 - box side / image side
    assert sum(map(len, hard)) > sum(map(len, normal))
    assert np.median(side(hard)) < 0.6 * np.median(side(normal))
    assert side(hard).max() <= 0.2
