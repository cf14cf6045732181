"""Hostile bundles: a description (``.siglink/bundle.json``) with a field of the wrong type, a
member it names missing, a key removed, or a member that inflates past the unpack limits.
``inspect`` and ``relink`` refuse each in one line naming the bundle (and the field), exit 2,
never a traceback; every hash is made consistent, so only the description's shape is at fault."""

from __future__ import annotations

import hashlib
import json
import marshal
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.bundle.test_bundle import APP, TEXTKIT_1_0
from tests.clirun import siglink
from tests.property.hostile_text import hostile_text

from siglink.cli.main import main
from siglink.demo import wheels

INFO, BOOT = ".siglink/bundle.json", ".siglink/boot.marshal"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store, a real bundle of an application linked to textkit 1.0.0)."""
    root = tmp_path_factory.mktemp("hostile-bundle")
    store = root / "store"
    wheel = wheels.make_wheel(root / "wheels", "textkit", "1.0.0", TEXTKIT_1_0)
    assert main(["install", "--store", str(store), str(wheel)]) == 0
    app = root / "app" / "app.py"
    app.parent.mkdir()
    app.write_text(APP)
    out = root / "app.pyz"
    assert main(["bundle", "--store", str(store), str(app), "-o", str(out)]) == 0
    return store, out


def craft(src: Path, dest: Path, change: Callable[[dict[str, Any]], None] | None = None,
          extra: dict[str, bytes] | None = None) -> Path:
    """``src`` with its description changed by ``change`` and members ``extra`` added, every
    recorded hash, size and CRC made to match (as a forger would)."""
    with zipfile.ZipFile(src) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members.update(extra or {})
    info = json.loads(members[INFO])
    if change is not None:
        change(info)
    if isinstance(info, dict):
        info["members"] = {n: hashlib.sha256(d).hexdigest() for n, d in members.items()
                           if n not in (INFO, BOOT)}
    members[INFO] = json.dumps(info).encode()
    boot = marshal.loads(members[BOOT])
    boot["id"] = hashlib.sha256(members[INFO]).hexdigest()[:32]
    boot["members"] = {n: [len(d), zlib.crc32(d)] for n, d in members.items() if n != BOOT}
    members[BOOT] = marshal.dumps(boot)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return dest


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(info: dict[str, Any]) -> None:
        for step in path[:-1]:
            info = info[step]
        if value is _DELETE:
            del info[path[-1]]
        else:
            info[path[-1]] = value
    return change


_DELETE = object()


@pytest.mark.parametrize(("path", "value", "field"), [
    (("app", "manifest"), ".siglink/manifests/nope.json",
     "$.app.manifest: names '.siglink/manifests/nope.json', which the bundle does not hold"),
    (("libs", "textkit"), "1.0.0", "$.libs['textkit']: expected an object, found a string"),
    (("app", "run"), _DELETE, "$.app.run: missing"),
    (("app", "version"), 3, "$.app.version: expected a string, found a number"),
    (("python",), 3.12, "$.python: expected a string, found a number"),
    (("libs", "textkit", "version"), None,
     "$.libs['textkit'].version: expected a string, found null"),
    (("libs", "textkit", "files"), ["a"],
     "$.libs['textkit'].files: expected an object, found an array"),
    (("plan", "links", "textkit", "verdict"), "ok",
     "$.plan.links['textkit'].verdict: expected an object, found a string"),
    (("app", "policy"), "lax", "$.app.policy: 'lax' is not one of signature, semver, strict"),
], ids=["missing-manifest", "lib-string", "no-run", "int-version", "float-python",
        "null-lib-version", "files-list", "verdict-string", "policy"])
def test_a_malformed_description_is_refused_naming_the_field(
    path: tuple[str, ...], value: Any, field: str, built: tuple[Path, Path], tmp_path: Path,
) -> None:
    store, good = built
    bad = craft(good, tmp_path / "bad.pyz", _set(path, value))
    for argv in (["inspect", str(bad)], ["relink", "--store", str(store), str(bad)],
                 ["relink", "--store", str(store), "--dry-run", str(bad)]):
        done = siglink(*argv)
        assert (done.returncode, done.stdout) == (2, ""), (argv, done.stderr)
        assert done.stderr == f"siglink: error: {bad}:{INFO}: {field}; refused\n", argv


def test_a_member_past_the_unpack_limits_is_refused_as_it_inflates(
    built: tuple[Path, Path], tmp_path: Path,
) -> None:
    """A 64 MiB member of zeros in a bundle of a few hundred KB: refused by its ratio (and, with
    a lower ``SIGLINK_UNPACK_MAX_TOTAL``, by the total), by inspect and relink alike."""
    store, good = built
    bomb = craft(good, tmp_path / "bomb.pyz", extra={"app/zeros.bin": bytes(64 << 20)})
    assert bomb.stat().st_size < 1 << 20
    compressed = zipfile.ZipFile(bomb).getinfo("app/zeros.bin").compress_size
    for argv in (["inspect", str(bomb)], ["relink", "--store", str(store), str(bomb)]):
        done = siglink(*argv)
        assert (done.returncode, done.stderr) == (2, (
            f"siglink: error: {bomb}: member 'app/zeros.bin' declares more than 200 times its "
            f"compressed size ({compressed / 1024:.1f} KiB); refused (the limit is set by "
            "SIGLINK_UNPACK_MAX_RATIO)\n")), argv
    done = siglink("inspect", str(good), env={"SIGLINK_UNPACK_MAX_TOTAL": "64K"})
    assert done.returncode == 2
    assert "uncompressed; refused (the limit is set by SIGLINK_UNPACK_MAX_TOTAL)" in done.stderr
    assert siglink("inspect", str(good)).returncode == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text(12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(hostile_text(8), children, max_size=3),
    max_leaves=10,
)


def _paths(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            if prefix == () and key == "members":
                continue  # recomputed by craft()
            found += _paths(value, (*prefix, key))
    return found


class TestAnyDescriptionGivesAnAnswerOrOneLine:
    """Whatever a bundle's description holds, ``inspect`` and ``relink --dry-run`` answer, or
    refuse in one line with exit 2: never a traceback (exit 70)."""

    @settings(max_examples=120, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(data=st.data())
    def test_any_value_anywhere_or_none(self, data: st.DataObject, built: tuple[Path, Path],
                                        tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes],
                                        ) -> None:
        store, good = built
        with zipfile.ZipFile(good) as archive:
            paths = _paths(json.loads(archive.read(INFO)))[1:]
        path = data.draw(st.sampled_from(paths), label="path")
        value = data.draw(st.just(_DELETE) | json_values, label="value")
        bad = craft(good, tmp_path / "fuzz.pyz", _set(path, value))
        for argv in (["inspect", str(bad)], ["inspect", "--json", str(bad)],
                     ["relink", "--dry-run", "--store", str(store), str(bad)]):
            capsysbinary.readouterr()
            code = main(argv)  # stdout writes back a name's raw bytes: read as bytes
            err = capsysbinary.readouterr().err.decode("utf-8", "surrogateescape")
            assert code in (0, 1, 2, 127), (argv, code, err)
            if code == 2:
                assert err.startswith(f"siglink: error: {bad}") and err.count("\n") == 1, err

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value=json_values)
    def test_any_json_as_the_description(self, value: Any, built: tuple[Path, Path],
                                         tmp_path: Path,
                                         capsysbinary: pytest.CaptureFixture[bytes]) -> None:
        _, good = built

        def replace(info: dict[str, Any]) -> None:
            info.clear()
            if isinstance(value, dict):
                info.update(value)

        bad = craft(good, tmp_path / "any.pyz", replace)
        capsysbinary.readouterr()
        code = main(["inspect", str(bad)])
        err = capsysbinary.readouterr().err.decode("utf-8", "surrogateescape")
        assert code == 2 and err.count("\n") == 1, err


def _start(bundle: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python BUNDLE`` with a private cache and ``env``."""
    return subprocess.run(
        [sys.executable, str(bundle)], capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(bundle.parent / "cache"), **env},
        input="")


def test_the_bootstrap_refuses_a_member_past_the_unpack_limits(
    built: tuple[Path, Path], tmp_path: Path,
) -> None:
    """At start, before anything is read or extracted: the sizes the archive declares are held
    to the same limits (``SIGLINK_UNPACK_MAX_*``), with the standard library alone."""
    _, good = built
    assert _start(good).returncode == 0
    bomb = craft(good, tmp_path / "bomb.pyz", extra={"app/zeros.bin": bytes(64 << 20)})
    packed = zipfile.ZipFile(bomb).getinfo("app/zeros.bin").compress_size
    done = _start(bomb)
    assert (done.returncode, done.stdout) == (127, ""), done.stderr
    assert done.stderr == (
        f"{bomb}: member app/zeros.bin declares {64 << 20} bytes from {packed}: past the limit "
        "set by SIGLINK_UNPACK_MAX_RATIO; refusing to start\n")
    done = _start(good, SIGLINK_UNPACK_MAX_TOTAL="64K")
    assert done.returncode == 127
    assert done.stderr.endswith(
        "past the limit set by SIGLINK_UNPACK_MAX_TOTAL; refusing to start\n"), done.stderr
    done = _start(good, SIGLINK_UNPACK_MAX_MEMBER="lots")
    assert (done.returncode, done.stderr) == (127, (
        f"{good}: SIGLINK_UNPACK_MAX_MEMBER='lots': expected a positive size such as 512M or "
        "2G; refusing to start\n"))


def test_a_lone_surrogate_in_the_description_is_refused_in_one_line(
        built: tuple[Path, Path], tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """JSON's ``\\ud800`` escape makes text no output can encode (it was a traceback)."""
    _, good = built
    bad = craft(good, tmp_path / "surrogate.pyz", _set(("app", "name"), "\ud800"))
    capsysbinary.readouterr()
    assert main(["inspect", str(bad)]) == 2
    err = capsysbinary.readouterr().err.decode("utf-8", "surrogateescape")
    assert err == (f"siglink: error: {bad}:.siglink/bundle.json: $.app.name: a string that "
                   "is not valid Unicode (a lone surrogate); refused\n"), err
