"""bulk's elastic thread pool: one thread while renders only compute, more once they wait."""

from __future__ import annotations

import threading
import time

import pytest

from engine.gitops import bulk


def _run(seconds_waiting: float, items: int = 40, limit: int = 5) -> tuple[list[int], set[str]]:
    done: list[int] = []
    threads: set[str] = set()
    lock = threading.Lock()

    def work(item: int) -> None:
        if seconds_waiting:
            time.sleep(seconds_waiting)  # as a render waiting on kustomize
        with lock:
            done.append(item)
            threads.add(threading.current_thread().name + str(threading.get_ident()))

    bulk._ElasticThreads(work, range(items), limit).run()
    return done, threads


def test_computing_items_stay_on_one_thread() -> None:
    done, threads = _run(0.0)
    assert sorted(done) == list(range(40)) and len(threads) == 1


def test_waiting_items_grow_the_pool_to_its_limit() -> None:
    done, threads = _run(0.02)
    assert sorted(done) == list(range(40)) and len(threads) == 5


def test_an_error_is_raised_after_every_item_ran() -> None:
    done: list[int] = []

    def work(item: int) -> None:
        done.append(item)
        if item == 3:
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        bulk._ElasticThreads(work, range(10), 3).run()
    assert sorted(done) == list(range(10))


def test_a_long_wait_adds_threads_before_it_ends() -> None:
    """Renders stuck on a slow kustomize do not hold the others back until they finish."""
    start = time.perf_counter()
    done, threads = _run(0.4, items=3, limit=5)
    assert sorted(done) == [0, 1, 2] and len(threads) == 3
    assert time.perf_counter() - start < 0.8
