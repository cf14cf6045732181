"""The store's SQLite index: units, versions, exports, imports, yanks, applications.

One file, ``index.sqlite``, read and written with the standard library's :mod:`sqlite3` in the
default rollback-journal mode (a killed writer leaves a hot journal that the next connection
rolls back). ``PRAGMA user_version`` carries the schema version; a newer one is refused.
Writers hold the store's file lock and use ``BEGIN IMMEDIATE``; readers need no lock.
SQLite's own locks are waited for at most ``$SIGLINK_LOCK_TIMEOUT`` seconds (the store lock's
bound); then :class:`~siglink.errors.StoreBusyError` (exit 75) names the process holding them
(the owner's own ``sqlite3`` reading the file in a transaction stalls a COMMIT: busy, not
damaged; the file is 0600, and other users read the snapshot
:mod:`~siglink.store._snapshot` publishes, opened ``readonly``). A full disk, a read-only
file or no memory is said as such (exit 3); every other
:class:`sqlite3.DatabaseError` becomes a :class:`CorruptIndexError` (exit 3) naming the file
and ``siglink store repair``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from siglink._json import JSONTextError, loads, loads_object
from siglink.errors import StoreBusyError, StoreError
from siglink.store._lock import holders, lock_timeout

__all__ = ["REPAIR_HINT", "SCHEMA_VERSION", "CorruptIndexError", "Index", "VersionRow",
           "busy_error", "commits", "compact_manifest", "compress_manifest"]


_COMMITS = [0]  # transactions this process committed, on any index


def commits() -> int:
    """How many index transactions that changed a row this process has committed: a command
    whose output could not be written still exits 0 when it changed the store
    (``siglink.cli.main``)."""
    return _COMMITS[0]


REPAIR_HINT: Final = "run 'siglink store repair' to rebuild it from libs/"
"""What every message about a damaged index ends with."""


class CorruptIndexError(StoreError):
    """The file is not a readable siglink index (``reason`` says why, without the path); the
    message names ``siglink store repair``.

    >>> print(CorruptIndexError(Path("/s/index.sqlite"), "corrupt store index (malformed)"))
    /s/index.sqlite: corrupt store index (malformed); run 'siglink store repair' to rebuild ...
    """

    def __init__(self, path: Path, reason: str) -> None:
        hint = "" if "siglink store repair" in reason else f"; {REPAIR_HINT}"
        super().__init__(f"{path}: {reason}{hint}")
        self.reason = reason


_BUSY: Final = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)
_NOT_DAMAGE: Final = (7, 8, 13)  # SQLITE_NOMEM, SQLITE_READONLY, SQLITE_FULL


def busy_error(path: Path, waited: float) -> StoreBusyError:
    """The index stayed locked by another process for ``waited`` seconds: who, where known."""
    pids = holders(path, f"{path}-journal", f"{path}-wal", f"{path}-shm")
    who = (f"process {pids[0]}" if len(pids) == 1 else
           f"processes {', '.join(map(str, pids[:5]))}" if pids else "another process")
    return StoreBusyError(
        f"{path}: the store index is busy: {who} holds a transaction on it; gave up after "
        f"{waited:g} s (SIGLINK_LOCK_TIMEOUT=SECONDS waits longer); nothing was changed",
        pids[0] if pids else 0)

SCHEMA_VERSION: Final = 3
"""2 added ``apps.refused``: why the application's last link was refused (NULL when it
linked). In ``app_links``, an empty ``version`` means the library is needed but not linked.
3 keeps each manifest zlib-compressed (a BLOB; text from older versions is still read) and no
longer copies exports and imports into rows of their own (their counts are read from the
manifest), and adds ``garbage`` (directories under the store root, relative paths, that a
committed change says are to be deleted: removed versions) and ``records`` (each version's
file hashes, compressed, for ``verify``)."""

_SCHEMA: Final = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (name TEXT PRIMARY KEY, display_name TEXT NOT NULL);
CREATE TABLE versions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    path TEXT NOT NULL,
    dist_info TEXT NOT NULL,
    top_level TEXT NOT NULL,
    requires TEXT NOT NULL,
    requires_python TEXT,
    content_digest TEXT NOT NULL,
    wheel TEXT NOT NULL,
    installed_at REAL NOT NULL,
    yanked TEXT,
    manifest TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE modules (
    module TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
    PRIMARY KEY (module, name, version)
);
CREATE TABLE exports (
    name TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL,
    kind TEXT NOT NULL, digest TEXT NOT NULL,
    PRIMARY KEY (name, version, path)
);
CREATE TABLE imports (
    name TEXT NOT NULL, version TEXT NOT NULL, library TEXT NOT NULL, path TEXT NOT NULL,
    digest TEXT, built_against TEXT
);
CREATE INDEX imports_by_unit ON imports (name, version);
CREATE TABLE apps (
    app_id TEXT PRIMARY KEY, manifest_path TEXT NOT NULL, registered_at REAL NOT NULL,
    refused TEXT
);
CREATE TABLE app_links (
    app_id TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
    PRIMARY KEY (app_id, name)
);
CREATE INDEX app_links_by_library ON app_links (name, version);
CREATE TABLE garbage (path TEXT PRIMARY KEY);
CREATE TABLE records (name TEXT NOT NULL, version TEXT NOT NULL, data BLOB NOT NULL,
                      PRIMARY KEY (name, version));
"""


_COLUMNS: Final = (
    "name, version, path, dist_info, top_level, requires, requires_python, "
    "content_digest, wheel, yanked"
)


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One row of ``versions``; paths are relative to the store root."""

    name: str
    version: str
    path: str
    dist_info: str
    top_level: tuple[str, ...]
    requires: tuple[str, ...]
    requires_python: str | None
    content_digest: str
    wheel: str
    yanked: str | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> VersionRow:
        """The row as read from SQLite.

        :raises JSONTextError: a column of the wrong type or shape (a damaged index).
        """
        texts = (row[0], row[1], row[2], row[3], row[7], row[8])
        if not all(isinstance(t, str) for t in texts) or not all(
                v is None or isinstance(v, str) for v in (row[6], row[9])):
            raise JSONTextError("a column of the wrong type")
        if not is_version_dir(row[2]) or "/" in row[3] or row[3] in ("", ".", ".."):
            raise JSONTextError(f"path {row[2][:100]!r} is not libs/NAME/VERSION")
        return cls(
            row[0], row[1], row[2], row[3], _strings(row[4], "top_level"),
            _strings(row[5], "requires"), row[6], row[7], row[8], row[9],
        )


def is_version_dir(relative: str) -> bool:
    """Whether ``relative`` has the shape of a stored version's directory, ``libs/NAME/VERSION``
    (the only kind of directory an index entry may name, and so the only kind it may delete).

    >>> is_version_dir("libs/textkit/1.0.0"), is_version_dir("libs/../../home")
    (True, False)
    """
    parts = relative.split("/")
    return (len(parts) == 3 and parts[0] == "libs"
            and all(p not in ("", ".", "..") for p in parts[1:]))


def _strings(text: object, column: str) -> tuple[str, ...]:
    """A JSON array of strings kept in a column."""
    value = loads(text) if isinstance(text, str | bytes) else None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JSONTextError(f"{column} is not a JSON array of strings")
    return tuple(value)


def compact_manifest(manifest: Mapping[str, Any]) -> str:
    """A manifest's JSON as the index keeps it: compact, keys sorted."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"))


def compress_manifest(manifest: Mapping[str, Any] | str) -> bytes:
    """A manifest as kept in the index: compact JSON (or :func:`compact_manifest`'s text),
    zlib-compressed (about 10x smaller)."""
    import zlib

    text = manifest if isinstance(manifest, str) else compact_manifest(manifest)
    return zlib.compress(text.encode("utf-8"), 9)


def _uri(path: Path) -> str:
    """``file:`` URI of ``path`` with every byte but ``/`` and unreserved ones %-escaped, so
    that ``#``, ``?``, ``%41`` and bytes that are not UTF-8 name the file they are in.

    >>> _uri(Path("/srv/a #1?/x%41/index.sqlite"))
    'file:/srv/a%20%231%3F/x%2541/index.sqlite'
    """
    from urllib.parse import quote

    return "file:" + quote(os.fsencode(os.path.abspath(path)), safe="/")


def _bind(params: Sequence[Any]) -> Sequence[Any]:
    r"""``params`` as SQLite can bind them: a string that is not valid Unicode (a path the OS
    gave as bytes that are not UTF-8, decoded with ``surrogateescape``) becomes NUL, then the
    hex of its bytes; no path or name holds a NUL, so :func:`_unbind` tells it back.

    >>> _bind(("/srv/a\udcffb", 1, "ok"))
    ('\x002f7372762f61edb3bf62', 1, 'ok')
    >>> _unbind([_bind(("/srv/a\udcffb", None))])
    [('/srv/a\udcffb', None)]
    """
    if all(p.__class__ is not str or p.isascii() for p in params):
        return params
    bound = list(params)
    for i, p in enumerate(bound):
        if isinstance(p, str) and not p.isascii():
            try:
                p.encode("utf-8")
            except UnicodeEncodeError:
                bound[i] = "\x00" + p.encode("utf-8", "surrogatepass").hex()
    return tuple(bound)


def _unbind(rows: list[Any]) -> list[Any]:
    """The rows with every value :func:`_bind` escaped turned back into its string."""
    for i, row in enumerate(rows):
        for v in row:
            if v.__class__ is str and v[:1] == "\x00":
                rows[i] = tuple(_unescaped(x) for x in row)
                break
    return rows


def _unescaped(value: Any) -> Any:
    if value.__class__ is str and value[:1] == "\x00":
        with suppress(ValueError):
            return bytes.fromhex(value[1:]).decode("utf-8", "surrogatepass")
    return value


def _check_regular(path: Path, *, readonly: bool) -> None:
    """An index path that holds a FIFO, a directory or a device is damage (SQLite would say
    only ``unable to open``, or wait on a FIFO): the private index names ``store repair``, which
    moves it aside; the public copy is the owner's to publish again."""
    from siglink._layout import NotRegularFileError, read_regular

    try:
        read_regular(path, 0)
        return
    except NotRegularFileError as e:
        reason = str(e)
    except OSError:  # missing, not readable: SQLite says so, as before
        return
    if readonly:
        raise StoreError(f"{path}: {reason}; the store's owner publishes it again with "
                         "any siglink command on the store")
    raise CorruptIndexError(path, f"the store index {reason}")


class Index:
    """A connection to ``index.sqlite``. Use :meth:`open`; close with :meth:`close`."""

    def __init__(self, path: Path, connection: sqlite3.Connection,
                 timeout: float = 0.0) -> None:
        self.path = path
        self._db = connection
        self.timeout = timeout
        self.on_commit: Callable[[], None] | None = None
        """Called after each COMMIT (the store publishes its snapshot for other users)."""
        self.committed = False
        """Whether the last :meth:`transaction` committed (``on_commit`` may raise after)."""

    @classmethod
    def open(cls, path: Path, *, create: bool, readonly: bool = False) -> Index | None:
        """Open the index; ``None`` when it does not exist and ``create`` is false.
        ``readonly`` opens a file that never changes (the public snapshot) without locks."""
        if not create and not path.exists():
            return None
        _check_regular(path, readonly=readonly)
        timeout = lock_timeout()  # the store lock's bound, for the index's locks too
        try:
            mode = "ro&immutable=1" if readonly else "rwc" if create else "rw"
            db = sqlite3.connect(
                f"{_uri(path)}?mode={mode}", uri=True, timeout=timeout, isolation_level=None
            )
        except sqlite3.Error as e:
            raise StoreError(f"{path}: cannot open the store index ({e})") from e
        index = cls(path, db, timeout)
        try:
            index._check_schema(create)
        except BaseException:
            db.close()
            raise
        return index

    def close(self) -> None:
        self._db.close()

    def backup_to(self, target: sqlite3.Connection) -> None:
        """Copy the committed database into ``target`` (SQLite's online backup)."""
        try:
            self._db.backup(target)
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def _fail(self, e: sqlite3.Error) -> StoreError:
        code = (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in _BUSY:
            return busy_error(self.path, self.timeout)
        if code in _NOT_DAMAGE:  # the disk or the system, not the file: repair cannot help
            return StoreError(f"{self.path}: cannot write the store index ({e}); nothing was "
                              "changed")
        if isinstance(e, sqlite3.DatabaseError):
            return CorruptIndexError(self.path, f"corrupt store index ({e})")
        return StoreError(f"{self.path}: store index ({e})")

    def _check_schema(self, create: bool) -> None:
        version = self._scalar("PRAGMA user_version")
        if version == 0 and create:
            with self.transaction():
                if self._scalar("PRAGMA user_version") == 0:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    self._db.execute("INSERT INTO meta VALUES ('generation', '0')")
                    self._db.execute("INSERT INTO meta VALUES ('id', ?)", (os.urandom(16).hex(),))
        elif version == 0:
            if self._scalar("SELECT count(*) FROM sqlite_master") != 0:
                raise CorruptIndexError(self.path, "not a siglink store index (no schema version)")
        elif version in (1, 2) and create:  # a writer upgrades the schema in place
            with self.transaction():
                if self._scalar("PRAGMA user_version") == 1:
                    self._db.execute("ALTER TABLE apps ADD COLUMN refused TEXT")
                if self._scalar("PRAGMA user_version") in (1, 2):
                    self._exec("CREATE TABLE IF NOT EXISTS garbage (path TEXT PRIMARY KEY)")
                    self._exec("CREATE TABLE IF NOT EXISTS records (name TEXT NOT NULL, "
                               "version TEXT NOT NULL, data BLOB NOT NULL, "
                               "PRIMARY KEY (name, version))")
                    self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store index schema {version} is newer than this siglink reads "
                f"({SCHEMA_VERSION}); upgrade siglink"
            )

    @property
    def outdated(self) -> bool:
        """True for an index of an older schema (a writer upgrades it when it opens it)."""
        return bool(0 < self._scalar("PRAGMA user_version") < SCHEMA_VERSION)

    @property
    def empty(self) -> bool:
        """True for a file with no schema yet (created by a reader racing the first writer)."""
        return bool(self._scalar("PRAGMA user_version") == 0)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return _unbind(self._db.execute(sql, _bind(params)).fetchall())
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._query(sql, params)
        return rows[0][0] if rows else None

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._db.execute(sql, _bind(params))
        except sqlite3.Error as e:
            raise self._fail(e) from e

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls back."""
        self.committed = False
        before = self._db.total_changes
        self._exec("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        try:
            self._exec("COMMIT")
        except BaseException:  # a failed COMMIT leaves the transaction open: close it
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        self.committed = True
        if self._db.total_changes != before:  # a transaction that changed a row
            _COMMITS[0] += 1
        if self.on_commit is not None:
            self.on_commit()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every query inside sees the same committed index (inside a
        transaction already, the enclosing one)."""
        if self._db.in_transaction:
            yield
            return
        self._exec("BEGIN")
        try:
            yield
        finally:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    # -- generation -------------------------------------------------------------------------
    def generation(self) -> int:
        if self.empty:
            return 0
        return int(self._scalar("SELECT value FROM meta WHERE key = 'generation'") or 0)

    def identity(self) -> str:
        """A token naming this index file for as long as it lives: random, set at creation (an
        index created before it had one is named by its path and inode)."""
        if not self.empty:
            token = self._scalar("SELECT value FROM meta WHERE key = 'id'")
            if token:
                return str(token)
        try:
            return f"{self.path}:{os.stat(self.path).st_ino}"
        except OSError:
            return str(self.path)

    def set_generation(self, value: int) -> None:
        self._exec("UPDATE meta SET value = ? WHERE key = 'generation'", (str(value),))

    def generations(self) -> tuple[int, dict[str, int]]:
        """The global generation and, per distribution (and ``"*"``), the global generation of
        its last change (:func:`siglink._layout.read_generations`). An index written before
        per-library generations has every library at the global generation."""
        generation = self.generation()
        if self.empty:
            return generation, {"*": generation}
        text = self._scalar("SELECT value FROM meta WHERE key = 'generations'")
        libraries: dict[str, int] = {}
        if text:
            try:
                data = loads(text)
            except JSONTextError:
                data = None
            if isinstance(data, dict):
                libraries = {str(k): int(v) for k, v in data.items()
                             if isinstance(v, int) and 0 <= v <= generation}
        if not libraries:
            libraries = dict.fromkeys(self.names(), generation)
        libraries.setdefault("*", generation)
        return generation, libraries

    def set_generations(self, generation: int, libraries: Mapping[str, int]) -> None:
        self.set_generation(generation)
        self._exec(
            "INSERT INTO meta VALUES ('generations', ?) ON CONFLICT (key) DO UPDATE SET "
            "value = excluded.value",
            (json.dumps(dict(sorted(libraries.items()))),))

    def module_owners(self) -> set[tuple[str, str]]:
        """``(module, distribution)`` of every top-level module of every version."""
        if self.empty:
            return set()
        return {(m, n) for m, n in self._query("SELECT DISTINCT module, name FROM modules")}

    # -- garbage ----------------------------------------------------------------------------
    def _has_table(self, name: str) -> bool:
        return bool(self._scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def _has_garbage_table(self) -> bool:
        return self._has_table("garbage")

    # -- file records -----------------------------------------------------------------------
    def set_record(self, name: str, version: str, files: Mapping[str, str]) -> None:
        """Record ``{relative path: sha256 hex}`` of every file of one version (compressed)."""
        import zlib

        data = zlib.compress(json.dumps(dict(sorted(files.items()))).encode(), 9)
        self._exec("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", (name, version, data))

    def record(self, name: str, version: str) -> dict[str, str] | None:
        """What :meth:`set_record` recorded; ``None`` for a version installed before."""
        import zlib

        if self.empty or not self._has_table("records"):
            return None
        data = self._scalar("SELECT data FROM records WHERE name = ? AND version = ?",
                            (name, version))
        if data is None:
            return None
        try:
            files = loads(zlib.decompress(data))
        except (zlib.error, JSONTextError) as e:
            raise CorruptIndexError(self.path, f"corrupt file record of {name}=={version} "
                                               f"({e})") from e
        if not isinstance(files, dict):
            raise CorruptIndexError(self.path, f"corrupt file record of {name}=={version}")
        return {str(k): str(v) for k, v in files.items()}

    def garbage(self) -> list[str]:
        """Directories (relative to the store root) a committed change says are garbage."""
        if self.empty or not self._has_garbage_table():
            return []
        return [r[0] for r in self._query("SELECT path FROM garbage ORDER BY path")]

    def add_garbage(self, path: str) -> None:
        self._exec("INSERT OR IGNORE INTO garbage VALUES (?)", (path,))

    def drop_garbage(self, path: str) -> None:
        self._exec("DELETE FROM garbage WHERE path = ?", (path,))

    # -- versions ---------------------------------------------------------------------------
    def names(self) -> list[str]:
        if self.empty:
            return []
        return [r[0] for r in self._query("SELECT DISTINCT name FROM versions ORDER BY name")]

    def versions(self, name: str) -> list[VersionRow]:
        if self.empty:
            return []
        rows = self._query(
            f"SELECT {_COLUMNS} FROM versions WHERE name = ?", (name,)
        )
        return [self._row(r) for r in rows]

    def all_versions(self) -> list[VersionRow]:
        if self.empty:
            return []
        rows = self._query(f"SELECT {_COLUMNS} FROM versions")
        return [self._row(r) for r in rows]

    def get(self, name: str, version: str) -> VersionRow | None:
        if self.empty:
            return None
        rows = self._query(
            f"SELECT {_COLUMNS} FROM versions WHERE name = ? AND version = ?",
            (name, version),
        )
        return self._row(rows[0]) if rows else None

    def _row(self, row: Sequence[Any]) -> VersionRow:
        try:
            return VersionRow.from_row(row)
        except JSONTextError as e:
            name = f"{row[0]}=={row[1]}" if len(row) > 1 else "a version"
            raise CorruptIndexError(self.path, f"corrupt row of {str(name)[:200]} ({e})") from None

    def manifest_json(self, name: str, version: str) -> str | None:
        if self.empty:
            return None
        value = self._scalar(
            "SELECT manifest FROM versions WHERE name = ? AND version = ?", (name, version)
        )
        if isinstance(value, bytes):
            import zlib

            try:
                return zlib.decompress(value).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as e:
                raise CorruptIndexError(self.path, f"corrupt manifest of {name}=={version} "
                                                   f"({e})") from e
        return None if value is None else str(value)

    def providers(self, module: str) -> list[str]:
        if self.empty:
            return []
        rows = self._query(
            "SELECT DISTINCT name FROM modules WHERE module = ? ORDER BY name", (module,)
        )
        return [r[0] for r in rows]

    def add_version(
        self,
        row: VersionRow,
        *,
        display_name: str,
        manifest: Mapping[str, Any] | bytes,
    ) -> None:
        """Insert one version with its modules, exports and imports (inside a transaction);
        ``manifest`` as JSON, or as :func:`compress_manifest` made it."""
        self._exec(
            "INSERT INTO units VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET display_name = ?",
            (row.name, display_name, display_name),
        )
        self._exec(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.name, row.version, row.path, row.dist_info, json.dumps(row.top_level),
                json.dumps(row.requires), row.requires_python, row.content_digest, row.wheel,
                time.time(), row.yanked,
                manifest if isinstance(manifest, bytes) else compress_manifest(manifest),
            ),
        )
        key = (row.name, row.version)
        try:
            self._db.executemany(
                "INSERT INTO modules VALUES (?, ?, ?)", [(m, *key) for m in row.top_level]
            )
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def remove_version(self, name: str, version: str) -> None:
        tables = ["versions", "modules", "exports", "imports"]
        if self._has_table("records"):
            tables.append("records")
        for table in tables:
            self._exec(f"DELETE FROM {table} WHERE name = ? AND version = ?", (name, version))
        if not self._scalar("SELECT count(*) FROM versions WHERE name = ?", (name,)):
            self._exec("DELETE FROM units WHERE name = ?", (name,))

    def set_yanked(self, name: str, version: str, reason: str | None) -> None:
        self._exec(
            "UPDATE versions SET yanked = ? WHERE name = ? AND version = ?",
            (reason, name, version),
        )

    def yanks(self) -> dict[str, dict[str, str]]:
        """``{name: {version: reason}}`` of every yanked version."""
        if self.empty:
            return {}
        found: dict[str, dict[str, str]] = {}
        for name, version, reason in self._query(
                "SELECT name, version, yanked FROM versions WHERE yanked IS NOT NULL"):
            found.setdefault(str(name), {})[str(version)] = str(reason)
        return found

    def count_exports(self, name: str, version: str) -> dict[str, int]:
        """``{kind: count}`` of one version's exports (rows of an index written before
        schema 3, else read from its manifest)."""
        rows = self._query(
            "SELECT kind, count(*) FROM exports WHERE name = ? AND version = ? GROUP BY kind",
            (name, version),
        )
        if rows:
            return {str(k): int(n) for k, n in rows}
        text = self.manifest_json(name, version)
        counts: dict[str, int] = {}
        try:
            exports = loads_object(text).get("exports", {}) if text else {}
        except JSONTextError as e:
            raise CorruptIndexError(self.path, f"corrupt manifest of {name}=={version}") from e
        for export in exports.values() if isinstance(exports, dict) else ():
            kind = str(export.get("kind", "")) if isinstance(export, dict) else ""
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    # -- applications -----------------------------------------------------------------------
    def register_app(
        self, app_id: str, manifest_path: str, links: Mapping[str, str | None],
        refused: str | None = None,
    ) -> None:
        """Record what ``app_id`` links now; a ``None`` version is needed but not linked."""
        self._exec(
            "INSERT INTO apps VALUES (?, ?, ?, ?) ON CONFLICT (app_id) DO UPDATE SET "
            "manifest_path = excluded.manifest_path, registered_at = excluded.registered_at, "
            "refused = excluded.refused",
            (app_id, manifest_path, time.time(), refused),
        )
        self._exec("DELETE FROM app_links WHERE app_id = ?", (app_id,))
        try:
            self._db.executemany(
                "INSERT INTO app_links VALUES (?, ?, ?)",
                [_bind((app_id, name, version or ""))
                 for name, version in sorted(links.items())],
            )
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def unregister_app(self, app_id: str) -> None:
        """Forget application ``app_id`` (its manifest is gone)."""
        self._exec("DELETE FROM app_links WHERE app_id = ?", (app_id,))
        self._exec("DELETE FROM apps WHERE app_id = ?", (app_id,))

    def unlink_version(self, name: str, version: str, why: str) -> list[str]:
        """Mark every application linking ``name==version`` as not linking it (the version is
        being removed), with ``why``; the ids of those applications."""
        ids = [r[0] for r in self._query(
            "SELECT app_id FROM app_links WHERE name = ? AND version = ? ORDER BY app_id",
            (name, version))]
        self._exec("UPDATE app_links SET version = '' WHERE name = ? AND version = ?",
                   (name, version))
        for app_id in ids:
            self._exec("UPDATE apps SET refused = ? WHERE app_id = ? AND refused IS NULL",
                       (why, app_id))
        return ids

    def _refused_column(self) -> str:
        # A version-1 index opened read-only has no ``refused`` column yet.
        return "refused" if self._scalar("PRAGMA user_version") >= 2 else "NULL"

    def apps(self) -> list[tuple[str, str, dict[str, str | None], str | None]]:
        """``(app_id, manifest_path, {library: version or None}, refused)`` of every app."""
        if self.empty:
            return []
        links: dict[str, dict[str, str | None]] = {}
        for app_id, name, version in self._query(
            "SELECT app_id, name, version FROM app_links ORDER BY app_id, name"
        ):
            links.setdefault(app_id, {})[name] = version or None
        return [
            (app_id, path, links.get(app_id, {}), refused)
            for app_id, path, refused in self._query(
                f"SELECT app_id, manifest_path, {self._refused_column()} FROM apps "
                "ORDER BY app_id"
            )
        ]

    def app(self, app_id: str) -> tuple[str, dict[str, str | None], str | None] | None:
        """``(manifest_path, {library: version or None}, refused)`` of one application."""
        if self.empty:
            return None
        rows = self._query(
            f"SELECT manifest_path, {self._refused_column()} FROM apps WHERE app_id = ?",
            (app_id,))
        if not rows:
            return None
        links: dict[str, str | None] = {
            name: version or None for name, version in self._query(
                "SELECT name, version FROM app_links WHERE app_id = ?", (app_id,))}
        return rows[0][0], links, rows[0][1]

    def users(self, name: str, version: str | None = None) -> list[tuple[str, str, str | None]]:
        """``(app_id, manifest_path, linked version)`` of applications linking ``name``
        (``==version``); without ``version``, also those needing it but not linking it now
        (version ``None``)."""
        if self.empty:
            return []
        sql = (
            "SELECT a.app_id, a.manifest_path, l.version FROM app_links l "
            "JOIN apps a ON a.app_id = l.app_id WHERE l.name = ?"
        )
        params: tuple[str, ...] = (name,)
        if version is not None:
            sql += " AND l.version = ?"
            params = (name, version)
        return [(r[0], r[1], r[2] or None)
                for r in self._query(sql + " ORDER BY a.app_id", params)]

    def dump(self) -> list[str]:
        """Every statement that recreates the database (for tests and debugging)."""
        try:
            return list(self._db.iterdump())
        except sqlite3.Error as e:
            raise self._fail(e) from e
