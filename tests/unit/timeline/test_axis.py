"""The time axis: linear when the pod is busy throughout, long quiet stretches squeezed to a
fixed width (the longest first, at most three), busy stretches at one common scale."""

from __future__ import annotations

import pytest

from kubelite.timeline import axis


def test_a_busy_record_gets_a_linear_axis_with_a_margin() -> None:
    got = axis.time_axis([0, 1, 2, 3, 4, 5], 5.0)
    assert got.squeezed == ()
    assert got.x(0) == 0 and got.x(5) == pytest.approx(1 - axis.MARGIN)
    assert got.x(2.5) == pytest.approx((1 - axis.MARGIN) / 2)


def test_a_long_quiet_middle_is_squeezed_and_busy_ends_keep_one_scale() -> None:
    # a start-up over 1 s, a deletion over 1 s at 60 s
    got = axis.time_axis([0, 0.5, 1.0, 60.0, 60.5, 61.0], 61.0)
    (quiet,) = got.squeezed
    assert quiet.x1 - quiet.x0 == pytest.approx(axis.GAP_WIDTH)
    assert 1.0 < quiet.start < 1.5 and 59.5 < quiet.end < 60.0
    assert got.width(0.0, 1.0) == pytest.approx(got.width(60.0, 61.0))


def test_a_short_deletion_beside_a_long_start_up_is_still_drawn_wide() -> None:
    # start-up in the first 2 s, the deletion over 0.05 s at 60 s
    got = axis.time_axis([0, 0.5, 1.0, 1.5, 2.0, 60.0, 60.02, 60.05], 60.05)
    assert len(got.squeezed) == 1
    deletion = next(p for p in got.pieces if p.start <= 60.0 < p.end and not p.squeezed)
    assert deletion.x1 - deletion.x0 == pytest.approx(
        axis.MIN_BUSY * (1 - axis.MARGIN - axis.GAP_WIDTH)
    )
    assert got.width(0.0, 2.0) < 0.7


def test_what_happens_at_the_edges_of_a_squeezed_stretch_stays_to_scale() -> None:
    got = axis.time_axis([0, 0.2, 50.0, 50.2], 50.2)
    (quiet,) = got.squeezed
    assert quiet.start > 0.2 and quiet.end < 50.0


def test_at_most_three_stretches_are_squeezed_the_longest_first() -> None:
    busy = [0, 0.1, 10, 10.1, 30, 30.1, 35, 35.1, 36, 36.1, 100, 100.1]
    got = axis.time_axis(busy, 100.1)
    lengths = sorted(round(p.end - p.start) for p in got.squeezed)
    assert len(lengths) == axis.MAX_SQUEEZED
    assert lengths[-1] >= 60  # 36.1 .. 100


def test_short_gaps_are_never_squeezed() -> None:
    got = axis.time_axis([0, 0.01, 0.4], 0.4)
    assert got.squeezed == ()


def test_the_axis_is_monotonic() -> None:
    got = axis.time_axis([0, 0.1, 0.2, 0.3, 60.0, 60.05, 60.1], 60.1)
    xs = [got.x(t / 10) for t in range(0, 602)]
    assert xs == sorted(xs) and xs[0] == 0.0 and xs[-1] <= 1.0


def test_seconds_out_of_range_are_clamped() -> None:
    got = axis.time_axis([0, 1], 1.0)
    assert got.x(-5) == 0.0 and got.x(1e9) == 1.0
