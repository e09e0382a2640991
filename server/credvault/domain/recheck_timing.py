"""When each connection is due for its re-check: pure arithmetic every replica agrees on.

A connection's *phase* is a hash of its ids spread uniformly over the interval, so checks are spread
evenly (a deterministic jitter) and every replica, and GetConnection, computes the same due times
without asking anyone: due at `k * interval + phase` for every whole k (time in Unix seconds).

Time is cut into *slices*: `slots` slices per interval, each `width` seconds. A slice is the unit one
replica claims (in Vault) and works through: the connections whose phase falls in its slot, plus the
expiry alarms registered for it. Few slices keep the coordination cheap; slices of at least ten
seconds (when the interval allows) keep a slice's listing of connections from repeating often.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_SLOTS = 96
"""Slices per interval at most: one a quarter of an hour with the default interval of a day."""
MIN_WIDTH = 10.0
"""Seconds a slice lasts at least, unless the interval itself is shorter."""


@dataclass(frozen=True)
class Timing:
    interval: float
    """Seconds between two checks of one connection; 0: re-checks are off."""
    rate: float
    """Checks per second per provider, across the whole deployment."""
    expiry_warning: float
    """Seconds before expires_at that the EXPIRING event is due."""

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @property
    def slots(self) -> int:
        return max(1, min(MAX_SLOTS, int(self.interval // MIN_WIDTH)))

    @property
    def width(self) -> float:
        return self.interval / self.slots

    def phase(self, tenant_id: str, connection_id: str) -> float:
        digest = hashlib.sha256(f"{tenant_id}/{connection_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 * self.interval

    def slot_of(self, tenant_id: str, connection_id: str) -> int:
        return min(int(self.phase(tenant_id, connection_id) // self.width), self.slots - 1)

    def slice_at(self, when: float) -> int:
        """The slice under way at Unix time `when`."""
        return math.floor(when / self.width)

    def slice_start(self, number: int) -> float:
        return number * self.width

    def due_in(self, number: int, tenant_id: str, connection_id: str) -> float:
        """When the connection is due within slice `number` (which must hold its slot)."""
        return (number // self.slots) * self.interval + self.phase(tenant_id, connection_id)

    def next_due(self, tenant_id: str, connection_id: str, now: float) -> float:
        phase = self.phase(tenant_id, connection_id)
        return math.ceil((now - phase) / self.interval) * self.interval + phase

    def next_check_at(
        self,
        tenant_id: str,
        connection_id: str,
        expires_at: datetime | None,
        now: datetime,
        created_at: datetime | None = None,
    ) -> datetime | None:
        """What `Connection.next_check_at` shows: None when re-checks are off, and when the
        connection expires first (it is never checked past its expiry). A slice lists its connections
        when it begins, so one created after that waits for its next turn."""
        if not self.enabled:
            return None
        due = self.next_due(tenant_id, connection_id, now.timestamp())
        if created_at is not None and created_at.timestamp() >= self.slice_start(self.slice_at(due)):
            due += self.interval
        when = datetime.fromtimestamp(due, UTC)
        return None if expires_at is not None and when >= expires_at else when

    @property
    def rate_window(self) -> float:
        """Seconds one claim of a provider's check budget covers (longer than 1 s below 1 check/s)."""
        return max(1.0, 1.0 / self.rate)

    @property
    def checks_per_window(self) -> int:
        return max(1, math.floor(self.rate * self.rate_window + 1e-9))
