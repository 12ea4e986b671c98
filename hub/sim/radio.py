"""Radio propagation in the virtual home: log-distance path loss, walls, fading and dropouts.

The mean RSSI between two points is ``tx_at_1m - 10 n log10(d)`` minus the loss of every wall on
the straight line between them. Walls are the room boundaries (crossing from one room to another
costs ``interior_wall_db``, into or out of the home ``exterior_wall_db``) plus any extra segments.
Per-advertisement shadowing and dropouts are applied by the caller with its own counter-based
random numbers, so this module stays pure.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hub.sim.scenario import RadioParams, Room, Wall

MIN_DISTANCE_M: Final = 0.3
"""Closer than this the far-field formula is meaningless; clamp (a tag on the sensor)."""

DROPOUT_RAMP_DB: Final = 8.0
"""Within this margin above sensitivity the chance of missing an advertisement rises to 1."""

_EPS: Final = 1e-9


@dataclass(frozen=True, slots=True)
class Radio:
    """The propagation model of one home."""

    params: RadioParams
    rooms: tuple[Room, ...]
    walls: tuple[Wall, ...] = ()

    def mean_rssi(
        self, tx_at_1m: float, src: tuple[float, float], dst: tuple[float, float]
    ) -> float:
        """Expected RSSI at ``dst`` of a transmitter at ``src`` (before fading)."""
        d = max(math.dist(src, dst), MIN_DISTANCE_M)
        loss = 10.0 * self.params.path_loss_exponent * math.log10(d)
        return tx_at_1m - loss - self.wall_loss(src, dst)

    def wall_loss(self, src: tuple[float, float], dst: tuple[float, float]) -> float:
        """Loss of every wall crossed on the straight line from ``src`` to ``dst``, dB."""
        return self._boundary_loss(src, dst) + sum(
            w.loss_db for w in self.walls if _segments_cross(src, dst, (w.x0, w.y0), (w.x1, w.y1))
        )

    def room_at(self, x: float, y: float) -> str | None:
        """The room containing the point, or None outside the home."""
        for room in self.rooms:
            if room.contains(x, y):
                return room.name
        return None

    def observed(self, mean: float, gauss: float, uniform: float) -> int | None:
        """One advertisement's RSSI given a standard normal and a uniform draw; None if missed."""
        p = self.params
        rssi = mean + p.shadowing_db * gauss
        if rssi < p.sensitivity_dbm:
            return None
        margin = rssi - p.sensitivity_dbm
        miss = p.dropout + (1.0 - p.dropout) * max(0.0, 1.0 - margin / DROPOUT_RAMP_DB)
        if uniform < miss:
            return None
        return round(rssi)

    def _boundary_loss(self, src: tuple[float, float], dst: tuple[float, float]) -> float:
        """Walk the line through room boundaries, charging each change of room."""
        cuts = sorted({0.0, 1.0, *self._crossings(src, dst)})
        loss = 0.0
        previous = self.room_at(*src)
        for a, b in itertools.pairwise(cuts):
            if b - a < _EPS:
                continue
            mid = (a + b) / 2
            here = self.room_at(src[0] + mid * (dst[0] - src[0]), src[1] + mid * (dst[1] - src[1]))
            if here != previous:
                both_inside = here is not None and previous is not None
                loss += (
                    self.params.interior_wall_db if both_inside else self.params.exterior_wall_db
                )
                previous = here
        return loss

    def _crossings(self, src: tuple[float, float], dst: tuple[float, float]) -> list[float]:
        """Line parameters in (0, 1) where the line meets a room edge's supporting line."""
        out: list[float] = []
        dx, dy = dst[0] - src[0], dst[1] - src[1]
        for room in self.rooms:
            if abs(dx) > _EPS:
                out.extend((x - src[0]) / dx for x in (room.x0, room.x1))
            if abs(dy) > _EPS:
                out.extend((y - src[1]) / dy for y in (room.y0, room.y1))
        return [s for s in out if 0.0 < s < 1.0]


def _segments_cross(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]
) -> bool:
    """Whether segments ab and cd properly intersect."""

    def orient(p: Sequence[float], q: Sequence[float], r: Sequence[float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = orient(c, d, a), orient(c, d, b)
    d3, d4 = orient(a, b, c), orient(a, b, d)
    return d1 * d2 < 0 and d3 * d4 < 0
