"""Build small pure-Python wheels from package directories, for the demo and for tests.

A real wheel (PEP 427): the package files, ``NAME-VERSION.dist-info/`` with METADATA, WHEEL and
a RECORD whose sha256 hashes and sizes cover every file, so any installer accepts it.

>>> import tempfile, zipfile
>>> wheel = make_wheel(Path(tempfile.mkdtemp()), "textkit", "1.0.0",
...                    {"textkit/__init__.py": "def wrap(text: str) -> str: ..."})
>>> wheel.name
'textkit-1.0.0-py3-none-any.whl'
>>> sorted(zipfile.ZipFile(wheel).namelist())  # doctest: +NORMALIZE_WHITESPACE
['textkit-1.0.0.dist-info/METADATA', 'textkit-1.0.0.dist-info/RECORD',
 'textkit-1.0.0.dist-info/WHEEL', 'textkit/__init__.py']
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["make_wheel", "wheel_from_tree"]


def __dir__() -> list[str]:
    return list(__all__)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def make_wheel(
    dest: Path,
    name: str,
    version: str,
    files: Mapping[str, str | bytes],
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
    tag: str = "py3-none-any",
    dist_info: Mapping[str, str | bytes] | None = None,
    filename: str | None = None,
) -> Path:
    """Write ``dest/NAME-VERSION-TAG.whl`` holding ``files`` (archive path -> content).

    ``dist_info`` adds files to the ``.dist-info`` directory (name -> content, e.g. a shipped
    ``siglink.json``), hashed in RECORD like the rest; ``filename`` overrides the wheel's name.
    """
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        metadata.append(f"Requires-Python: {requires_python}")
    metadata.extend(f"Requires-Dist: {r}" for r in requires)
    python_tag, abi_tag, platform_tag = tag.split("-")
    contents = {path: _as_bytes(data) for path, data in files.items()}
    contents[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: siglink\nRoot-Is-Purelib: true\n"
        f"Tag: {python_tag}-{abi_tag}-{platform_tag}\n"
    ).encode()
    for member, data in (dist_info or {}).items():
        contents[f"{info}/{member}"] = _as_bytes(data)
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in contents.items()]
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / (filename or f"{dist}-{version}-{tag}.whl")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            archive.writestr(path, data)
    return wheel


def wheel_from_tree(
    dest: Path, root: Path, name: str, version: str, *, requires: Iterable[str] = ()
) -> Path:
    """A wheel of every ``.py`` file under ``root`` (paths relative to ``root``)."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.py"))
        if "__pycache__" not in p.parts
    }
    return make_wheel(dest, name, version, files, requires=requires)
