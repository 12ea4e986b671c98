"""Radio model: RSSI falls with distance and walls, fading and dropouts behave."""

from __future__ import annotations

import numpy as np
import pytest

from hub.sim.radio import Radio
from hub.sim.scenario import RadioParams, Room, Wall

ROOMS = (Room("a", 0, 0, 5, 4), Room("b", 5, 0, 10, 4), Room("c", 10, 0, 15, 4))


def test_rssi_decreases_with_distance() -> None:
    radio = Radio(RadioParams(), ROOMS)
    values = [radio.mean_rssi(-59, (0.5, 2), (0.5 + d, 2)) for d in (1, 2, 3, 4)]
    assert values[0] == pytest.approx(-59)
    assert values == sorted(values, reverse=True)
    assert values[1] - values[3] == pytest.approx(10 * 2.2 * np.log10(2))


def test_each_wall_costs_its_loss() -> None:
    params = RadioParams(interior_wall_db=6.0, exterior_wall_db=11.0)
    radio = Radio(params, ROOMS)
    same_room = radio.wall_loss((1, 2), (4, 2))
    one_wall = radio.wall_loss((4, 2), (6, 2))
    two_walls = radio.wall_loss((4, 2), (11, 2))
    outside = radio.wall_loss((-3, 2), (1, 2))
    assert (same_room, one_wall, two_walls, outside) == (0.0, 6.0, 12.0, 11.0)
    # Same distance, one wall between: weaker by exactly the wall.
    a = radio.mean_rssi(-59, (3, 2), (4.5, 2))
    b = radio.mean_rssi(-59, (4.5, 2), (6, 2))
    assert a - b == pytest.approx(6.0)


def test_extra_wall_segments_count() -> None:
    radio = Radio(RadioParams(), ROOMS, (Wall(2.5, 0, 2.5, 4, 8.0),))
    assert radio.wall_loss((1, 2), (4, 2)) == 8.0
    assert radio.wall_loss((1, 1), (2, 3)) == 0.0


def test_shadowing_spreads_and_dropouts_rise_near_sensitivity() -> None:
    params = RadioParams(shadowing_db=4.0, dropout=0.1, sensitivity_dbm=-97)
    radio = Radio(params, ROOMS)
    rng = np.random.default_rng(1)
    gauss, uniform = rng.standard_normal(4000), rng.random(4000)

    def observe(mean: float) -> list[int | None]:
        return [radio.observed(mean, g, u) for g, u in zip(gauss, uniform, strict=True)]

    strong = observe(-60)
    got = [r for r in strong if r is not None]
    assert 0.86 < len(got) / len(strong) < 0.94
    assert 3.5 < float(np.std(got)) < 4.5
    weak = observe(-95)
    assert sum(r is not None for r in weak) < 0.5 * len(got)
    assert all(r is None or r >= -97 for r in observe(-100))
