"""A bounded queue of advertisements: when full, the oldest is dropped and counted."""


class AdQueue:
    """Fixed-size ring; ``push`` never allocates beyond the tuple it is given."""

    def __init__(self, size):
        self._ring = [None] * size
        self._size = size
        self._head = 0
        self._count = 0
        self.dropped = 0

    def __len__(self):
        return self._count

    def push(self, item):
        """Add ``item``; drops the oldest when full."""
        tail = (self._head + self._count) % self._size
        self._ring[tail] = item
        if self._count == self._size:
            self._head = (self._head + 1) % self._size
            self.dropped += 1
        else:
            self._count += 1

    def pop_many(self, n):
        """Remove and return up to ``n`` oldest items."""
        out = []
        while self._count and len(out) < n:
            out.append(self._ring[self._head])
            self._ring[self._head] = None
            self._head = (self._head + 1) % self._size
            self._count -= 1
        return out
