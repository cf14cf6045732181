"""Opening what ``siglink exports`` is pointed at: wheels, sdists, source trees, installed
distributions and manifest files.

Nothing here imports the library: archives are unpacked into a temporary directory, metadata is
read as text (``METADATA``, ``PKG-INFO``, ``pyproject.toml``, ``setup.cfg``, a literal
``setup(...)`` call), and top-level modules come from ``RECORD`` or the tree itself.
"""

from __future__ import annotations

import ast
import base64
import configparser
import csv
import hashlib
import io
import os
import re
import stat
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from siglink._membername import Paths, unsafe_reason
from siglink._text import bad_char, decode, header_fields
from siglink._unzip import Budget, extract, open_archive
from siglink.contracts.manifest import Manifest
from siglink.errors import BadInputError, ExtractionError, ManifestError

__all__ = ["Source", "open_target"]

# Directories of a project that are never the library itself.
_NOT_PACKAGES = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "bench",
     "scripts", "tools", "build", "dist", "venv", "env", "site-packages", "node_modules"}
)
_NOT_MODULES = frozenset({"setup", "conftest", "noxfile", "fabfile", "tasks", "manage"})
_DIST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION_ASSIGN = re.compile(r"^__version__\s*(?::[^=]+)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


@dataclass
class Source:
    """A library laid out on disk, ready to be read, with its distribution metadata.

    ``root`` goes on the search path; ``packages`` are the top-level modules to read there.
    ``label`` is how messages name the target; file paths in diagnostics are relative to root.
    """

    root: Path
    packages: tuple[str, ...]
    name: str
    version: str
    label: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = None
    top_level: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)


@contextmanager
def open_target(target: str | os.PathLike[str]) -> Iterator[Source | Manifest]:
    """Open ``target`` for reading; temporary files live as long as the context.

    :raises ExtractionError: the target is missing or not a readable library.
    :raises ManifestError: a manifest file that is corrupt or of a newer format.

    A single module is a library of its own, its version read from ``__version__``:

    >>> import shutil, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "greet.py").write_text("__version__ = '0.3'")
    >>> with open_target(folder / "greet.py") as source:
    ...     print(source.name, source.version, source.packages, list(source.files))
    greet 0.3 ('greet',) ['greet.py']
    >>> shutil.rmtree(folder)
    """
    label = os.fspath(target)
    path = Path(label)
    if not path.exists():
        if _DIST_NAME.match(label) and not label.endswith((".whl", ".json", ".gz", ".zip")):
            yield _installed(label)
            return
        raise ExtractionError(f"{label}: no such file or directory", path=label)
    if path.is_dir():
        yield _tree(path, label)
        return
    lower = path.name.lower()
    if lower.endswith(".json"):
        yield _manifest(path, label)
    elif lower.endswith(".whl"):
        with tempfile.TemporaryDirectory(prefix="siglink-wheel-") as tmp:
            yield _wheel(path, label, Path(tmp))
    elif lower.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")):
        with tempfile.TemporaryDirectory(prefix="siglink-sdist-") as tmp:
            yield _sdist(path, label, Path(tmp))
    elif lower.endswith((".py", ".pyi")):
        yield _single_module(path, label)
    else:
        raise ExtractionError(
            f"{label}: not a wheel, sdist, source tree or manifest "
            "(expected .whl, .tar.gz, .zip, .json or a directory)",
            path=label,
        )


# -- manifests ---------------------------------------------------------------------------------


def _manifest(path: Path, label: str) -> Manifest:
    try:
        text = path.read_bytes()
    except OSError as e:
        raise ManifestError(f"{label}: cannot read: {e.strerror}", path=label) from e
    return Manifest.loads(text, source=label)


# -- wheels ------------------------------------------------------------------------------------


def _wheel(path: Path, label: str, dest: Path) -> Source:
    try:
        archive = zipfile.ZipFile(path)
    except UnicodeDecodeError:
        open_archive(path, label)  # raises the one-line error naming the member
        raise
    except (zipfile.BadZipFile, OSError) as e:
        raise ExtractionError(f"{label}: not a valid wheel (zip archive): {e}", path=label) from e
    with archive:
        names = archive.namelist()
        metadata_names = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(metadata_names) != 1:
            raise ExtractionError(
                f"{label}: not a wheel: no single .dist-info/METADATA", path=label)
        dist_info = metadata_names[0].partition("/")[0]
        files: dict[str, str] = {}
        budget = Budget(label)
        paths = Paths()  # one spelling per file: what is read is what the store would keep
        for info in archive.infolist():
            name = info.filename
            reason = unsafe_reason(name, directory=info.is_dir())
            if reason:
                raise ExtractionError(f"{label}: member {name!r} {reason}; refused", path=label)
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ExtractionError(f"{label}: member {name!r} is a symbolic link; refused",
                                      path=label)
            earlier = paths.add(name)
            if earlier is not None:
                raise ExtractionError(f"{label}: members {earlier!r} and {name!r} collide when "
                                      "unpacked; refused", path=label)
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(target, "wb") as out:
                for chunk in budget.chunks(archive, info):  # bounded: siglink._unzip
                    digest.update(chunk)
                    out.write(chunk)
            files[name] = digest.hexdigest()
    source = wheel_source(dest, label=label, dist_info=dist_info)
    _check_record(dest / dist_info / "RECORD", files, label)
    source.files = {k: v for k, v in files.items() if not k.startswith(f"{dist_info}/RECORD")}
    return source


def wheel_source(root: Path, *, label: str, dist_info: str | None = None) -> Source:
    """Read an unpacked wheel (or site-packages-like) directory's metadata."""
    if dist_info is None:
        found = sorted(p.name for p in root.glob("*.dist-info") if (p / "METADATA").is_file())
        if not found:
            raise ExtractionError(f"{label}: no .dist-info/METADATA", path=label)
        dist_info = found[0]
    meta = _read_metadata((root / dist_info / "METADATA").read_bytes(), f"{label}: METADATA")
    record = _read_record(root / dist_info / "RECORD", label)
    top_level = _top_level_from_paths(record) if record else _top_level_from_tree(root)
    return Source(
        root=root,
        packages=top_level,
        label=label,
        top_level=top_level,
        files={},
        **meta,  # type: ignore[arg-type]
    )


def _read_record(path: Path, label: str) -> dict[str, str]:
    """RECORD as path -> hex sha256 ('' when the row has no hash)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    except UnicodeDecodeError as e:
        where = f"{label}: {path.parent.name}/{path.name}"
        raise ExtractionError(f"{where} is not valid UTF-8 ({e.reason} at byte {e.start})",
                              path=str(path)) from None
    rows: dict[str, str] = {}
    try:
        parsed = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        where = f"{label}: {path.parent.name}/{path.name}"
        raise ExtractionError(f"{where} is not a valid RECORD ({e})", path=str(path)) from None
    for row in parsed:
        if not row:
            continue
        digest = ""
        if len(row) > 1 and row[1].startswith("sha256="):
            raw = row[1][len("sha256="):]
            try:
                digest = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()
            except ValueError:
                digest = "invalid"
        rows[row[0]] = digest
    return rows


def _check_record(path: Path, files: dict[str, str], label: str) -> None:
    for name, digest in _read_record(path, label).items():
        if digest and name in files and files[name] != digest:
            raise ExtractionError(
                f"{label}: corrupt wheel: {name} does not match its RECORD hash", path=label
            )


def _top_level_from_paths(paths: dict[str, str]) -> tuple[str, ...]:
    names: set[str] = set()
    for path in paths:
        first, sep, _ = path.partition("/")
        if sep:
            if first.endswith((".dist-info", ".data", ".egg-info")) or first == "__pycache__":
                continue
            if first.isidentifier():
                names.add(first)
        elif first.endswith((".py", ".pyi")) or _is_extension(first):
            stem = first.partition(".")[0]
            if stem.isidentifier():
                names.add(stem)
    return tuple(sorted(names))


def _is_extension(filename: str) -> bool:
    return filename.endswith((".so", ".pyd"))


def _read_metadata(data: bytes, where: str) -> dict[str, object]:
    try:
        message = header_fields(data, where, ("name", "version", "requires-dist",
                                              "requires-python"))
    except BadInputError as e:
        raise ExtractionError(e.message, path=where) from None
    except (ValueError, TypeError) as e:
        raise ExtractionError(f"{where}: unreadable metadata: {e}") from e
    name, version = message.get("Name"), message.get("Version")
    if not name or not version:
        raise ExtractionError(f"{where}: metadata without Name or Version")
    return {
        "name": str(name).strip(),
        "version": str(version).strip(),
        "requires": tuple(str(r).strip() for r in message.get_all("Requires-Dist") or ()),
        "requires_python": (str(message["Requires-Python"]).strip()
                            if message.get("Requires-Python") else None),
    }


# -- sdists and source trees -------------------------------------------------------------------


def _sdist(path: Path, label: str, dest: Path) -> Source:
    try:
        extract(path, dest, label)  # bounded, plain files only: siglink._unzip
    except BadInputError as e:
        raise ExtractionError(e.message, path=label) from None
    entries = [p for p in dest.iterdir() if not p.name.startswith(".")]
    project = entries[0] if len(entries) == 1 and entries[0].is_dir() else dest
    return _project(project, label)


def _tree(path: Path, label: str) -> Source:
    if (path / "__init__.py").is_file() or (path / "__init__.pyi").is_file():
        return _package_dir(path, label)
    if any(p.is_dir() and p.name.endswith(".dist-info") for p in path.iterdir()):
        return wheel_source(path, label=label)
    return _project(path, label)


def _package_dir(path: Path, label: str) -> Source:
    path = path.resolve()
    meta: dict[str, object] | None = None
    for project in (path.parent, path.parent.parent):
        if any((project / f).is_file() for f in ("pyproject.toml", "setup.py", "setup.cfg")):
            meta = _project_metadata(project, label, (path.name,), path.parent)
            break
    if meta is None:
        meta = {"name": path.name, "version": _version_from_code(path.parent, (path.name,)) or "0"}
    return Source(root=path.parent, packages=(path.name,), label=label, top_level=(path.name,),
                  files=_hash_tree(path.parent, (path.name,)), **meta)  # type: ignore[arg-type]


def _single_module(path: Path, label: str) -> Source:
    path = path.resolve()
    stem = path.name.partition(".")[0]
    version = _version_from_code(path.parent, (stem,)) or "0"
    return Source(root=path.parent, packages=(stem,), label=label, name=stem, version=version,
                  top_level=(stem,), files=_hash_tree(path.parent, (stem,)))


def _project(path: Path, label: str) -> Source:
    root = path / "src" if (path / "src").is_dir() else path
    packages = _egg_top_level(path) or _top_level_from_tree(root)
    packages = tuple(p for p in packages if _module_exists(root, p))
    if not packages:
        raise ExtractionError(f"{label}: no Python package or module found", path=label)
    meta = _project_metadata(path, label, packages, root)
    return Source(root=root, packages=packages, label=label, top_level=packages,
                  files=_hash_tree(root, packages), **meta)  # type: ignore[arg-type]


def _module_exists(root: Path, name: str) -> bool:
    return (root / name).is_dir() or any(root.glob(f"{name}.py*")) or any(root.glob(f"{name}.*.so"))


def _egg_top_level(project: Path) -> tuple[str, ...]:
    for candidate in (*project.glob("*.egg-info"), *project.glob("src/*.egg-info")):
        top = candidate / "top_level.txt"
        if top.is_file():
            names = [n.strip() for n in top.read_text(encoding="utf-8", errors="replace")
                     .splitlines()]  # a name that is not UTF-8 is no identifier: dropped
            return tuple(sorted(n for n in names if n.isidentifier()))
    return ()


def _top_level_from_tree(root: Path) -> tuple[str, ...]:
    names: set[str] = set()
    for entry in root.iterdir():
        stem = entry.name.partition(".")[0]
        if not stem.isidentifier() or stem.lower() in _NOT_PACKAGES:
            continue
        if entry.is_dir():
            if (entry / "__init__.py").is_file() or (entry / "__init__.pyi").is_file():
                names.add(entry.name)
        elif (entry.suffix in (".py", ".pyi") or _is_extension(entry.name)) and (
            stem not in _NOT_MODULES
        ):
            names.add(stem)
    return tuple(sorted(names))


def _project_metadata(
    project: Path, label: str, packages: tuple[str, ...], root: Path
) -> dict[str, object]:
    """Name, version and requirements from PKG-INFO, pyproject.toml, setup.cfg or setup.py."""
    pkg_info = project / "PKG-INFO"
    if pkg_info.is_file():
        return _read_metadata(pkg_info.read_bytes(), f"{label}: PKG-INFO")
    meta: dict[str, object] = {}
    pyproject = project / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ExtractionError(f"{label}: pyproject.toml: {e}", path=str(pyproject)) from e
        table = data.get("project", {})
        if isinstance(table, dict):
            if isinstance(table.get("name"), str):
                meta["name"] = table["name"]
            if isinstance(table.get("version"), str):
                meta["version"] = table["version"]
            if isinstance(table.get("dependencies"), list):
                meta["requires"] = tuple(str(d) for d in table["dependencies"])
            if isinstance(table.get("requires-python"), str):
                meta["requires_python"] = table["requires-python"]
    setup_cfg = project / "setup.cfg"
    if setup_cfg.is_file() and not ("name" in meta and "version" in meta):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(decode(setup_cfg.read_bytes(), f"{label}: setup.cfg"),
                               str(setup_cfg))
        except (configparser.Error, OSError):
            pass
        else:
            for key in ("name", "version"):
                value = parser.get("metadata", key, fallback="")
                if value and not value.startswith(("attr:", "file:")):
                    meta.setdefault(key, value.strip())
    setup_py = project / "setup.py"
    if setup_py.is_file() and not ("name" in meta and "version" in meta):
        for key, value in _setup_py_literals(setup_py).items():
            meta.setdefault(key, value)
    meta.setdefault("name", packages[0] if len(packages) == 1 else project.name)
    if "version" not in meta:
        meta["version"] = _version_from_code(root, packages) or "0"
    return meta


def _setup_py_literals(path: Path) -> dict[str, str]:
    """``name=`` and ``version=`` given as string literals to a ``setup(...)`` call."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return {}
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) \
                == "setup":
            for kw in node.keywords:
                if kw.arg in ("name", "version") and isinstance(kw.value, ast.Constant) \
                        and isinstance(kw.value.value, str):
                    found[kw.arg] = kw.value.value
    return found


def _version_from_code(root: Path, packages: tuple[str, ...]) -> str | None:
    for package in packages:
        for candidate in (root / package / "__init__.py", root / f"{package}.py",
                          root / package / "__about__.py", root / package / "_version.py",
                          root / package / "version.py"):
            try:
                match = _VERSION_ASSIGN.search(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            if match:
                return match.group(1)
    return None


def _hash_tree(root: Path, packages: tuple[str, ...]) -> dict[str, str]:
    files: dict[str, str] = {}
    for package in packages:
        base = root / package
        paths = base.rglob("*") if base.is_dir() else root.glob(f"{package}.*")
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                name = path.relative_to(root).as_posix()
                if bad_char(name) is not None:  # no wheel could record it (RECORD is UTF-8)
                    raise ExtractionError(f"{path}: a file name that is not UTF-8; a library's "
                                          "files must have UTF-8 names", path=str(path))
                files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(files.items()))


# -- installed distributions -------------------------------------------------------------------


def _installed(name: str) -> Source:
    from importlib import metadata

    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError as e:
        raise ExtractionError(
            f"{name}: no such file, directory or installed distribution", path=name
        ) from e
    try:  # importlib.metadata reads every file as UTF-8
        meta: dict[str, object] = {
            "name": dist.metadata["Name"] or name,
            "version": dist.version,
            "requires": tuple(dist.requires or ()),
            "requires_python": dist.metadata["Requires-Python"],
        }
        record = {str(f.as_posix()): (f.hash.value if f.hash else "") for f in dist.files or ()}
        top_text = dist.read_text("top_level.txt")
    except UnicodeDecodeError as e:
        raise ExtractionError(f"{name}: installed metadata is not UTF-8 text (byte "
                              f"0x{e.object[e.start]:02x})", path=name) from None
    top_level = _top_level_from_paths(record)
    if top_text:
        top_level = tuple(sorted({*top_level, *(n.strip() for n in top_text.split() if
                                                 n.strip().isidentifier())}))
    root = Path(str(dist.locate_file("")))
    packages = tuple(p for p in top_level if _module_exists(root, p))
    if not packages:
        # An editable install: find where each top-level module lives without importing it.
        import importlib.util

        for top in top_level:
            spec = importlib.util.find_spec(top)
            if spec is not None and spec.origin:
                origin = Path(spec.origin)
                root = origin.parent.parent if origin.stem == "__init__" else origin.parent
                packages += (top,)
    if not packages:
        raise ExtractionError(f"{name}: installed distribution has no importable modules",
                              path=name)
    files = {path: _b64_to_hex(digest) for path, digest in record.items() if digest}
    return Source(root=root, packages=packages, label=name, top_level=top_level, files=files,
                  **meta)  # type: ignore[arg-type]


def _b64_to_hex(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
    except ValueError:
        return value

