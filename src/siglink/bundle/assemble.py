"""Assemble a bundle from its parts: the application, the linked libraries, the plan.

A bundle is a zipapp (``#!/usr/bin/env pythonX.Y`` then a zip archive)::

    _siglink_bundle.py                the bootstrap (siglink/bundle/_boot.py)
    _siglink_hook.py                  the import hook it installs (siglink/link/hook.py)
    __main__.py                       calls it
    .siglink/site/sitecustomize.py    calls it in interpreters the application starts
    .siglink/bundle.json              what is inside and why: the app, every library (version,
                                      source, content hash, file hashes), the plan's verdicts,
                                      every member's sha256
    .siglink/boot.marshal             what the bootstrap needs, in a format it reads without
                                      json: run spec, links, the member table (size, CRC-32)
    .siglink/manifests/*.siglink.json the application's manifest and each library's
    app/...                           the application's own files, from its ``path0``
    libs/NAME-VERSION/...             each linked library's files and its dist-info

Every ``.py`` has its unchecked hash-based ``.pyc`` beside it, compiled by the target
interpreter. Nothing depends on the time or on the order of the inputs, so the same inputs
give the same bytes.
"""

from __future__ import annotations

import json
import marshal
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siglink.bundle._boot import HOOK_MODULE, MAIN_SOURCE, SITE_DOC, SITE_LINK
from siglink.bundle._compile import compile_sources
from siglink.bundle._zipwrite import zip_bytes
from siglink.bundle.prune import import_closure
from siglink.errors import BadInputError
from siglink.link import hook

__all__ = ["BUNDLE_FORMAT", "AppPart", "Assembled", "LibPart", "assemble", "content_hash"]

BUNDLE_FORMAT = 1
BOOT_SOURCE = Path(__file__).with_name("_boot.py")
HOOK_SOURCE = Path(hook.__file__)
SITE_SOURCE = hook.sitecustomize_source(SITE_DOC, SITE_LINK)
_COMPILED = (".so", ".pyd")


def __dir__() -> list[str]:
    return list(__all__)


@dataclass(frozen=True)
class AppPart:
    """The application: its files relative to its ``path0`` and how to start it.

    ``run`` is ``{"module": NAME}`` (run as ``python -m NAME`` from ``path0``; ``__main__``
    for a directory application) or ``{"func": "pkg.mod:main"}``.
    """

    name: str
    version: str
    files: Mapping[str, bytes]
    run: Mapping[str, str]
    manifest: str
    policy: str


@dataclass(frozen=True)
class LibPart:
    """One linked library version: its files as stored and where it came from."""

    name: str
    version: str
    dist_info: str
    top_level: tuple[str, ...]
    files: Mapping[str, bytes]
    source: Mapping[str, str]
    manifest: str | None = None

    @property
    def member(self) -> str:
        return f"libs/{self.name}-{self.version}"


@dataclass(frozen=True)
class Assembled:
    """The archive's bytes and what went into it."""

    data: bytes
    info: dict[str, Any]
    whole: dict[str, str] = field(default_factory=dict)


def content_hash(files: Mapping[str, str]) -> str:
    """One sha256 over a file table (path -> sha256), independent of its order.

    >>> a = content_hash({"app.py": "1f2e", "lib/util.py": "9a0b"})
    >>> a == content_hash({"lib/util.py": "9a0b", "app.py": "1f2e"}), len(a)
    (True, 64)
    >>> a == content_hash({"app.py": "1f2e", "lib/util.py": "9a0c"})
    False
    """
    text = "".join(f"{path}\0{digest}\n" for path, digest in sorted(files.items()))
    return _sha256(text.encode())


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def assemble(app: AppPart, libs: Sequence[LibPart], *, plan: Mapping[str, Any],
             python: tuple[int, int], interpreter: str, prune: bool) -> Assembled:
    """Build the archive for ``app`` linked to ``libs`` (the plan's verdicts in ``plan``)."""
    _check_compiled_for(libs, python)
    whole: dict[str, str] = {}
    lib_files = {lib.name: dict(lib.files) for lib in libs}
    if prune:
        closure = import_closure({"\0app": app.files, **lib_files}, app="\0app")
        whole = dict(closure.whole)
        lib_files = {name: {p: files[p] for p in closure.kept[name]}
                     for name, files in lib_files.items()}
    members: dict[str, bytes] = {}
    members["_siglink_bundle.py"] = BOOT_SOURCE.read_bytes()
    members[f"{HOOK_MODULE}.py"] = HOOK_SOURCE.read_bytes()
    members["__main__.py"] = MAIN_SOURCE.encode()
    members[".siglink/site/sitecustomize.py"] = SITE_SOURCE.encode()
    for rel, data in app.files.items():
        members[f"app/{rel}"] = data
    for lib in libs:
        for rel, data in lib_files[lib.name].items():
            members[f"{lib.member}/{rel}"] = data
    _add_bytecode(members, interpreter)
    manifests = {"app": ".siglink/manifests/app.siglink.json"}
    members[manifests["app"]] = app.manifest.encode()
    for lib in libs:
        if lib.manifest is not None:
            manifests[lib.name] = f".siglink/manifests/{lib.name}-{lib.version}.siglink.json"
            members[manifests[lib.name]] = lib.manifest.encode()
    info = _bundle_info(app, libs, lib_files, members, plan=plan, python=python, prune=prune,
                        whole=whole, manifests=manifests)
    members[".siglink/bundle.json"] = (json.dumps(info, indent=1, sort_keys=True) + "\n").encode()
    boot_record = _boot_record(app, libs, lib_files, members, python)
    members[".siglink/boot.marshal"] = marshal.dumps(boot_record)
    data = zip_bytes(members, shebang=f"/usr/bin/env python{python[0]}.{python[1]}")
    return Assembled(data, info, whole)


def _check_compiled_for(libs: Sequence[LibPart], python: tuple[int, int]) -> None:
    """Refuse an extension module built for another interpreter than the bundle's."""
    tag = f".cpython-{python[0]}{python[1]}-"
    for lib in libs:
        for rel in sorted(lib.files):
            name = rel.rsplit("/", 1)[-1]
            if name.endswith(_COMPILED) and ".cpython-" in name and tag not in name:
                raise BadInputError(
                    f"{lib.name} {lib.version}: {rel} is built for another Python than "
                    f"{python[0]}.{python[1]}; install a wheel of {lib.name} for that Python "
                    "into the store, or bundle for this one")


def _add_bytecode(members: dict[str, bytes], interpreter: str) -> None:
    sources = sorted(name for name in members if name.endswith(".py"))
    # code objects name their member ("libs/werkzeug-3.0.1/werkzeug/utils.py"): the bundle's
    # own file name would make two builds of the same inputs differ
    images = compile_sources([(name, members[name]) for name in sources], interpreter)
    for name, image in zip(sources, images, strict=True):
        if image is not None:
            members[name + "c"] = image


def _bundle_info(app: AppPart, libs: Sequence[LibPart],
                 lib_files: Mapping[str, Mapping[str, bytes]],
                 members: Mapping[str, bytes], *, plan: Mapping[str, Any],
                 python: tuple[int, int], prune: bool, whole: Mapping[str, str],
                 manifests: Mapping[str, str]) -> dict[str, Any]:
    from siglink import __version__

    out_libs: dict[str, Any] = {}
    for lib in libs:
        files = {rel: _sha256(data) for rel, data in sorted(lib_files[lib.name].items())}
        out_libs[lib.name] = {
            "version": lib.version,
            "member": lib.member,
            "dist_info": lib.dist_info,
            "top_level": list(lib.top_level),
            "source": dict(lib.source),
            "content_sha256": content_hash(files),
            "files": files,
            "compiled": any(p.endswith(_COMPILED) for p in files),
            "pruned": prune and lib.name not in whole,
            "kept_whole": whole.get(lib.name),
            "manifest": manifests.get(lib.name),
        }
    return {
        "format": BUNDLE_FORMAT,
        "siglink": __version__,
        "python": f"{python[0]}.{python[1]}",
        "prune": prune,
        "app": {"name": app.name, "version": app.version, "run": dict(app.run),
                "policy": app.policy, "manifest": manifests["app"],
                "files": {rel: _sha256(data) for rel, data in sorted(app.files.items())}},
        "libs": out_libs,
        "plan": plan,
        "members": {name: _sha256(data) for name, data in sorted(members.items())},
    }


def _boot_record(app: AppPart, libs: Sequence[LibPart],
                 lib_files: Mapping[str, Mapping[str, bytes]], members: Mapping[str, bytes],
                 python: tuple[int, int]) -> dict[str, Any]:
    links: dict[str, Any] = {}
    for lib in libs:
        files = lib_files[lib.name]
        compiled = any(p.endswith(_COMPILED) for p in files)
        links[lib.name] = {
            "member": lib.member,
            "dir": f"{lib.name}-{lib.version}",
            "dist_info": lib.dist_info,
            "top_level": list(lib.top_level),
            "compiled": compiled,
            # what an extraction writes and checks (sources and bytecode included)
            "files": {rel: _sha256(data) for rel, data in sorted(
                (r, members[f"{lib.member}/{r}"])
                for r in _with_bytecode(files, lib.member, members))} if compiled else {},
        }
    run = dict(app.run)
    run.setdefault("path0", "app")
    return {
        "format": BUNDLE_FORMAT,
        "python": python,
        "id": _sha256(members[".siglink/bundle.json"])[:32],
        "run": run,
        "links": links,
        "members": {name: [len(data), zlib.crc32(data)] for name, data in sorted(members.items())},
    }


def _with_bytecode(files: Mapping[str, bytes], member: str,
                   members: Mapping[str, bytes]) -> list[str]:
    out = list(files)
    out.extend(rel + "c" for rel in files if rel.endswith(".py") and f"{member}/{rel}c" in members)
    return out
