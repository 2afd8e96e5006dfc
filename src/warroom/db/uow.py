"""The unit of work: the one place that commits or rolls back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

SessionMaker = Callable[..., Session]


@contextmanager
def unit_of_work(make_session: SessionMaker, *, write: bool = True) -> Iterator[Session]:
    """Yield a session; commit if the block succeeds, roll back if it raises."""
    session = make_session(write=write)
    try:
        yield session
        if write:
            session.commit()
        # A reader just closes: the pool rolls the connection back, and skipping
        # session.rollback() spares expiring every object it loaded.
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
