"""Search results kept per process: a bounded cache for the current index generation.

Customers ask the same few questions over and over; the results of one (query, scope,
page) cannot change until the index does. Each process keeps the most recently asked
results of its current index generation: the cache is one of the generation's derived
values, so the searcher that sees a new publish starts with an empty one, and no page
shows results older than the index it searched.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic
from typing import TypeVar

from .engine import Scope
from .engine import SearchResults
from .engine import search
from .index import SearchIndex
from .query import clean_query

#: Results kept per process by default (a page of 10 hits with snippets is a few KB).
DEFAULT_SIZE = 1000
_ANYWHERE = Scope()
V = TypeVar("V")


class BoundedCache(Generic[V]):
    """At most `size` values, the least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def results_cache(index: SearchIndex, size: int = DEFAULT_SIZE) -> BoundedCache[SearchResults]:
    """The cache of the index generation this process searches now."""
    return index.derived("results_cache", lambda _searcher: BoundedCache[SearchResults](size))


def cached_search(index: SearchIndex, raw: str | None, scope: Scope = _ANYWHERE, page: int = 1,
                  per_page: int = 10, allow_correction: bool = True,
                  size: int = DEFAULT_SIZE) -> SearchResults:
    """`search`, answered from this process's cache when the same query (as cleaned),
    scope and page were asked on the current index generation; `size` 0 keeps nothing.

    The results are shared between requests: read them, never change them."""
    if size <= 0:
        return search(index, raw, scope, page, per_page, allow_correction)
    started = time.perf_counter()
    key = (clean_query(raw), scope, page, per_page, allow_correction)
    # One searcher block: the generation cannot change between the lookup and the store.
    with index.searcher():
        cache = results_cache(index, size)
        found = cache.get(key)
        if found is None:
            found = search(index, raw, scope, page, per_page, allow_correction)
            cache.put(key, found)
            return found
    # The search took only this long now (for tracking's latency).
    return dataclasses.replace(found, elapsed_ms=(time.perf_counter() - started) * 1000)
