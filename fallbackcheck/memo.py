"""Results computed once per object rather than once per cell.

A batch's profile (asked for, or received) is one dict shared by every cell of the batch;
judging a cell asks the same questions of it (its plain OCI form, its content hash)
thousands of times in a run. Hashing the dict's content to find
an earlier answer would cost about as much as the answer, so the memo keys on the object's
identity and keeps the object itself, which keeps its id from being reused while cached.
Callers must treat the argument and the answer as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class IdentityMemo:
    """fn(obj, *rest) remembered per (id(obj), rest), for the most recent `size` objects.
    `key(*rest)`, if given, stands for `rest` in the key: for arguments that are not
    hashable, or that are equal by content (e.g. received.content_hash of a dict)."""

    def __init__(self, fn, size: int = 512, key=None):
        self.fn = fn
        self.size = size
        self.key = key
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, obj, *rest):
        key = (id(obj), rest if self.key is None else self.key(*rest))
        # A lookup is one C call, atomic under the GIL: only the writers below take the lock.
        hit = self._items.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        value = self.fn(obj, *rest)
        with self._lock:
            self._items[key] = (obj, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
