"""The ingest write lock: exclusive across open files (hence processes), bounded wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from warroom.db.engine import ingest_write_lock, make_engine
from warroom.db.filelock import LockTimeout, WriteLock


def test_a_second_holder_waits_until_the_first_lets_go(tmp_path: Path) -> None:
    # Two WriteLocks open the file twice: flock() then conflicts as between processes.
    first, second = WriteLock(tmp_path / "l", timeout=5), WriteLock(tmp_path / "l", timeout=5)
    order: list[str] = []
    with first.held():
        waiter = threading.Thread(target=lambda: _hold(second, order))
        waiter.start()
        time.sleep(0.2)
        order.append("first done")
    waiter.join(timeout=5)
    assert order == ["first done", "second held"]
    first.close()
    second.close()


def _hold(lock: WriteLock, order: list[str]) -> None:
    with lock.held():
        order.append("second held")


def test_a_holder_that_never_lets_go_times_the_waiter_out(tmp_path: Path) -> None:
    holder, waiter = WriteLock(tmp_path / "l", timeout=5), WriteLock(tmp_path / "l", timeout=0.2)
    with holder.held():
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="held for over"), waiter.held():
            pass
        assert time.monotonic() - started >= 0.2
    with waiter.held():  # free again once the holder let go
        pass
    holder.close()
    waiter.close()


def test_a_holder_that_will_not_wait_is_refused_at_once(tmp_path: Path) -> None:
    holder, other = WriteLock(tmp_path / "l", timeout=5), WriteLock(tmp_path / "l", timeout=5)
    refused = pytest.raises(LockTimeout, match="held by another process")
    with holder.held(), refused, other.held(wait=False):
        pytest.fail("held a lock another holds")
    with other.held(wait=False):  # free: taken at once
        pass
    holder.close()
    other.close()


def test_only_a_sqlite_file_gets_a_lock(tmp_path: Path) -> None:
    found = ingest_write_lock(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    assert found is not None
    assert found.path == tmp_path / "w.db.ingest-lock"
    assert ingest_write_lock(create_engine("sqlite:///:memory:")) is None
    assert ingest_write_lock(create_engine("sqlite://")) is None
