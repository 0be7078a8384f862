"""Dagster's event log in one SQLite file, written through one pooled connection per process.

`orchestration/dagster.yaml` names this class. Dagster's `ConsolidatedSqliteEventLogStorage`
creates a new SQLAlchemy engine and opens a new SQLite connection for every read and write, and
closing the last connection checkpoints the write-ahead log into the database file: about 8 ms a
stored event here, for the 240 events of a seed run (benchmarks/RESULTS.md). This subclass keeps
one engine and its connections for the life of the process; the file, its schema and SQLite's
durability (WAL, a sync at every commit) are Dagster's. Commits then stay in the write-ahead log
until SQLite checkpoints it, so the watch that feeds the UI's live run view follows that log too.

Every process that opens the instance imports this module, the webserver's and the daemon's too:
`make` puts the project's folder on the venv's path (a `.pth` file, as an editable install does).
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from functools import cached_property

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
    ConsolidatedSqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from watchdog.events import FileSystemEvent, PatternMatchingEventHandler
from watchdog.observers import Observer

WAL_SUFFIX = "-wal"
_open_storages: weakref.WeakSet[PooledSqliteEventLogStorage] = weakref.WeakSet()


class PooledSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """ConsolidatedSqliteEventLogStorage with one engine, and a connection pool, per process."""

    @cached_property
    def _engine(self) -> db.Engine:
        _open_storages.add(self)
        return db.create_engine(
            self._conn_string,
            # handed to one thread at a time by the pool (the webserver serves from threads)
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            # one connection kept open; more at once (the webserver's threads) are opened and
            # closed as the stock class does, with no limit to wait on
            pool_size=1,
            max_overflow=-1,
        )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[db.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def watch(self, run_id, cursor, callback) -> None:
        if not self._obs:
            path = self.get_db_path()
            self._obs = Observer()
            self._obs.start()
            handler = _Changes(self, patterns=[path, path + WAL_SUFFIX])
            self._obs.schedule(handler, self._base_dir, recursive=True)
        self._watchers[run_id][callback] = cursor

    def dispose(self) -> None:
        super().dispose()
        if "_engine" in self.__dict__:
            self._engine.dispose()


class _Changes(PatternMatchingEventHandler):
    """New events for the watchers, whenever the database file or its log changes."""

    def __init__(self, storage: PooledSqliteEventLogStorage, **kwargs) -> None:
        self._storage = storage
        super().__init__(**kwargs)

    def on_modified(self, event: FileSystemEvent) -> None:
        self._storage.on_modified()


def _forget_connections_in_child() -> None:
    """A forked child must not share its parent's SQLite connections: it opens its own."""
    for storage in list(_open_storages):
        if "_engine" in storage.__dict__:
            storage._engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_connections_in_child)
