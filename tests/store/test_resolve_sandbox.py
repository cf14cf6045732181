"""A release the index has only as an sdist: pip would run its ``setup.py`` (to read its
metadata) while resolving and downloading. siglink lets pip resolve wheels only; an sdist is
downloaded by siglink itself and built in the offline sandbox, and its wheel offered to pip.
No sandbox with the network is ever started. Served by a real PEP 503 index on the loopback: a
hostile sdist asked for by name, by a direct URL, in a requirements file, or reached as the
dependency of a wheel, leaves no marker and no process and is installed (built offline), or
refused in one line: without a sandbox, or when only pip could fetch it (a wheel's direct URL);
an install of wheels alone builds nothing."""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_build_sandbox import _processes_with, hostile_sdist, needs_bwrap

from siglink.cli.main import main
from siglink.demo.wheels import make_wheel
from siglink.errors import FetchError
from siglink.store import Store, fetch
from siglink.store.fetch import Resolved, download, resolve


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


def _simple_index(root: Path, artifacts: list[Path]) -> None:
    """A PEP 503 simple index under ``root/simple`` whose pages link ``root/files``."""
    files = root / "files"
    files.mkdir(parents=True)
    projects: dict[str, list[str]] = {}
    for artifact in artifacts:
        shutil.copyfile(artifact, files / artifact.name)
        project = artifact.name.split("-", 1)[0].replace("_", "-").lower()
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
        projects.setdefault(project, []).append(
            f'<a href="../../files/{html.escape(artifact.name)}#sha256={digest}">'
            f"{html.escape(artifact.name)}</a>")
    for project, links in projects.items():
        (root / "simple" / project).mkdir(parents=True)
        (root / "simple" / project / "index.html").write_text(
            "<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    (root / "simple" / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(
        f'<a href="{p}/">{p}</a>' for p in projects) + "\n</body></html>\n")


def _wheel(folder: Path, name: str, requires: tuple[str, ...] = ()) -> Path:
    return make_wheel(folder, name, "1.0", {f"{name}/__init__.py": "def go(n: int) -> int:\n"
                                            "    return n\n"}, requires=requires)


class _Case:
    """A hostile sdist ``hostile-1.0`` (its ``setup.py`` writes ``markers`` and starts a
    sleeper carrying ``token``), ``hostdep-1.0`` (a wheel requiring it), ``plainlib-1.0`` (a
    wheel requiring the wheel ``plaindep-1.0``), served at ``url``; ``log`` records every
    sandbox started (through a ``bwrap`` wrapper first on ``PATH``)."""

    def __init__(self, tmp_path: Path, url: str, token: str, markers: list[Path],
                 log: Path) -> None:
        self.tmp_path, self.url, self.token, self.markers, self.log = (
            tmp_path, url, token, markers, log)

    @property
    def files(self) -> str:
        return self.url.removesuffix("/simple") + "/files"

    def sandboxes(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def networked(self) -> list[str]:
        return [line for line in self.sandboxes() if "--share-net" in line.split()]


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Case]:
    token = f"siglink-hostile-{uuid.uuid4().hex}"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the invoking user's home for this command
    markers = [home / token, tmp_path / "marker"]
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path / "index")))
    url = f"http://127.0.0.1:{server.server_port}"
    made = tmp_path / "made"
    made.mkdir()
    artifacts = [
        hostile_sdist(made / "src", markers, token),
        _wheel(made, "hostdep", requires=("hostile==1.0",)),
        _wheel(made, "urldep", requires=(f"hostile @ {url}/files/hostile-1.0.tar.gz",)),
        _wheel(made, "plainlib", requires=("plaindep==1.0",)),
        _wheel(made, "plaindep"),
    ]
    _simple_index(tmp_path / "index", artifacts)
    # root starts bwrap as nobody: the shim and its log must be reachable by nobody
    shim = Path(tempfile.mkdtemp(prefix="siglink-shim-"))
    shim.chmod(0o755)
    log = shim / "sandboxes.log"
    log.touch()
    log.chmod(0o666)
    real = shutil.which("bwrap")
    if real is not None:
        wrapper = shim / "bwrap"
        # one line a sandbox: the launcher's program, an argument, spans lines
        wrapper.write_text(f'#!/bin/sh\necho "$*" | tr "\\n" " " >> "{log}"\n'
                           f'echo >> "{log}"\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}:/usr/bin:/bin")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _Case(tmp_path, f"{url}/simple", token, markers, log)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(shim, ignore_errors=True)
        for pid in _processes_with(token):  # only if an assertion below failed
            os.kill(pid, 9)
        for marker in markers:
            marker.unlink(missing_ok=True)


def _install(case: _Case, *specs: str) -> tuple[int, Path]:
    root = case.tmp_path / f"store-{uuid.uuid4().hex[:8]}"
    return main(["install", *specs, "--index-url", case.url, "--store", str(root)]), root


def _args(case: _Case, spec: str) -> list[str]:
    """``spec``; the sdist by its URL (``direct URL``), or a requirements file naming it by its
    URL (pip prepares a direct URL's metadata whatever ``--only-binary`` says)."""
    url = f"hostile @ {case.files}/hostile-1.0.tar.gz"
    if spec == "direct URL":
        return [url]
    if not spec.startswith("-r"):
        return [spec]
    file = case.tmp_path / "requirements.txt"
    file.write_text(f"{url}  # the sdist, by URL\n")
    return ["-r", str(file)]


def _nothing_left(case: _Case) -> None:
    assert [m for m in case.markers if m.exists()] == []
    assert _processes_with(case.token) == []


@needs_bwrap
@pytest.mark.parametrize("spec", ["hostile==1.0", "hostdep==1.0", "-r direct URL",
                                  "direct URL"])
def test_an_sdist_only_requirement_is_downloaded_by_siglink_and_built_offline(
    case: _Case, spec: str, capsys: pytest.CaptureFixture[str],
) -> None:
    """By name, as the dependency of a wheel, or by a direct URL (given, or in a requirements
    file): the sdist's ``setup.py`` runs only inside the offline build sandbox."""
    code, root = _install(case, *_args(case, spec))
    out, err = capsys.readouterr()
    assert code == 0, err
    _nothing_left(case)
    store = Store(root)
    assert store.get("hostile", "1.0").top_level == ("hostile",)
    if spec.startswith("hostdep"):
        assert store.get("hostdep", "1.0").top_level == ("hostdep",)
    assert "installed hostile==1.0" in out
    assert case.sandboxes(), "the sdist was not built in the sandbox"
    assert case.networked() == [], "a sandbox with the network was started"


@needs_bwrap
def test_a_direct_url_to_an_sdist_that_a_wheel_requires_is_refused(
    case: _Case, capsys: pytest.CaptureFixture[str],
) -> None:
    """Only pip can fetch what a wheel's metadata names by URL (pip prepares it, whatever
    ``--only-binary`` says): refused in one line naming it and the wheel, nothing run."""
    code, root = _install(case, "urldep==1.0")
    err = capsys.readouterr().err
    assert code == 4, err
    assert err.splitlines()[-1].removesuffix("; nothing was installed") == (
        f"siglink: error: hostile @ {case.files}/hostile-1.0.tar.gz (from urldep==1.0): not "
        "fetched: only pip can fetch it (a VCS URL, an editable, or a direct URL to an sdist "
        "in a wheel's metadata), and pip would run its build code with the network and your "
        "index credentials to read its metadata; build a wheel of it and give that, or set "
        "SIGLINK_ALLOW_UNSANDBOXED_BUILD=1 to let pip run it with your rights")
    _nothing_left(case)
    assert case.sandboxes() == []
    assert not (root / "libs").exists() or not any((root / "libs").iterdir())


@needs_bwrap
def test_a_built_sdist_is_recorded_by_its_url_and_sha256_and_used_as_built(
    case: _Case,
) -> None:
    """What the resolution records of a built sdist is what one would download again (its
    URL on the index and its sha256), not the temporary wheel; :func:`download` hands over
    that wheel without fetching or building anything."""
    sdist = case.tmp_path / "index" / "files" / "hostile-1.0.tar.gz"
    work = case.tmp_path / "resolve"
    items = {i.name: i for i in resolve(["hostdep==1.0"], index_url=case.url, work=work)}
    hostile = items["hostile"]
    assert (hostile.version, hostile.url, hostile.path, hostile.requested) == (
        "1.0", f"{case.files}/hostile-1.0.tar.gz", None, False)
    assert hostile.sha256 == hashlib.sha256(sdist.read_bytes()).hexdigest()
    assert hostile.built is not None and hostile.built.name.endswith(".whl")
    assert items["hostdep"].built is None and items["hostdep"].requested
    built = len(case.sandboxes())
    found = download([hostile], case.tmp_path / "download", index_url=case.url)
    assert found == {"hostile==1.0": hostile.built}
    assert len(case.sandboxes()) == built
    _nothing_left(case)


def test_download_fetches_an_sdist_itself_with_its_hash_checked(case: _Case) -> None:
    """An sdist that :func:`download` is given (from a resolution pip ran with the user's
    leave) is downloaded by siglink, not by pip, so none of its code runs; its sha256 must be
    the one recorded."""
    sdist = case.tmp_path / "index" / "files" / "hostile-1.0.tar.gz"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    item = Resolved("hostile", "1.0", f"{case.files}/hostile-1.0.tar.gz", None, digest,
                    True, (), ())
    found = download([item], case.tmp_path / "a", index_url=case.url)
    assert found["hostile==1.0"].read_bytes() == sdist.read_bytes()
    with pytest.raises(FetchError) as refused:
        download([replace(item, sha256="0" * 64)], case.tmp_path / "b", index_url=case.url)
    assert refused.value.message == (
        "hostile==1.0: hostile-1.0.tar.gz does not have the sha256 the index gave; refused")
    _nothing_left(case)
    assert case.sandboxes() == []


@pytest.mark.parametrize("spec", ["hostile==1.0", "hostdep==1.0", "-r direct URL",
                                  "direct URL", "urldep==1.0"])
def test_without_a_sandbox_an_sdist_only_requirement_is_refused(
    case: _Case, spec: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused in one line naming it. A direct URL that a wheel from the index requires is
    prepared by pip whatever ``--only-binary`` says: pip runs guarded, every process it would
    start refused, so that build code never runs either."""
    monkeypatch.setenv("PATH", str(case.tmp_path / "made"))  # no bwrap to be found
    code, root = _install(case, *_args(case, spec))
    err = capsys.readouterr().err
    url = f"hostile @ {case.files}/hostile-1.0.tar.gz"
    named = {"urldep==1.0": f"{url} (from urldep==1.0)", "-r direct URL": url,
             "direct URL": url}.get(spec, "hostile==1.0")
    assert code == 4, err
    assert err.splitlines()[-1].removesuffix("; nothing was installed") == (
        f"siglink: error: {named}: not fetched: an sdist (the index has no wheel of it for "
        "this interpreter, or it is given by URL or path), whose build code pip runs to read "
        "its metadata; siglink runs it only in a sandbox, and bubblewrap (bwrap) is not "
        "installed; install "
        "bubblewrap (apt-get install bubblewrap, dnf install bubblewrap), or set "
        "SIGLINK_ALLOW_UNSANDBOXED_BUILD=1 to let pip run it with your rights")
    _nothing_left(case)
    assert not (root / "libs").exists() or not any((root / "libs").iterdir())


@needs_bwrap
def test_an_sdist_only_requirement_without_dependencies_is_built_offline(
    case: _Case, capsys: pytest.CaptureFixture[str],
) -> None:
    """``--no-deps`` takes the store's own fetch: the sdist is found on the index and
    downloaded without pip (no code of it runs with the network), then built offline."""
    code, root = _install(case, "hostile==1.0", "--no-deps")
    _, err = capsys.readouterr()
    assert code == 0, err
    _nothing_left(case)
    assert Store(root).get("hostile", "1.0").top_level == ("hostile",)
    assert case.sandboxes() and not case.networked()


def test_an_install_of_wheels_alone_builds_nothing(
    case: _Case, capsys: pytest.CaptureFixture[str],
) -> None:
    """Resolved wheels only, in one pass by the guarded pip, downloaded, and no sandbox
    started."""
    code, root = _install(case, "plainlib==1.0")
    _, err = capsys.readouterr()
    assert code == 0, err
    assert sorted(Store(root).installed()) == [("plaindep", "1.0"), ("plainlib", "1.0")]
    assert case.sandboxes() == []


@needs_bwrap
@pytest.mark.parametrize("how", ["environment", "pip.conf"])
def test_the_users_index_settings_reach_siglinks_own_index_client(
    case: _Case, how: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without ``--index-url``: the index comes from ``PIP_INDEX_URL`` or a pip.conf; siglink
    finds the sdist-only dependency there itself, as pip would."""
    if how == "environment":
        monkeypatch.setenv("PIP_INDEX_URL", case.url)
    else:
        config = case.tmp_path / "pip.conf"
        config.write_text(f"[global]\nindex-url = {case.url}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    root = case.tmp_path / "store"
    code = main(["install", "hostdep==1.0", "--store", str(root)])
    _, err = capsys.readouterr()
    assert code == 0, err
    _nothing_left(case)
    assert Store(root).get("hostile", "1.0").top_level == ("hostile",)
    assert case.networked() == []


@needs_bwrap
def test_a_wheel_from_a_local_find_links_folder_is_taken_from_it(
    case: _Case, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The user's ``find-links`` folder serves a wheel beside the sdist siglink builds; the
    wheel is the user's file, left as it is."""
    links = case.tmp_path / "links"
    links.mkdir()
    wheel = _wheel(links, "localdep")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    root = case.tmp_path / "store"
    code = main(["install", "hostile==1.0", "localdep==1.0", "--index-url", case.url,
                 "--store", str(root)])
    _, err = capsys.readouterr()
    assert code == 0, err
    _nothing_left(case)
    assert sorted(Store(root).installed()) == [("hostile", "1.0"), ("localdep", "1.0")]
    assert case.networked() == []
    assert wheel.is_file()


@needs_bwrap
def test_a_nested_requirements_file_naming_an_sdist_by_url_is_read_with_its_hashes(
    case: _Case,
) -> None:
    """A requirements file is read through a copy naming the built wheel: a nested file is
    still found beside the one that names it, and an sdist's ``--hash`` must be its own."""
    sdist = case.tmp_path / "index" / "files" / "hostile-1.0.tar.gz"
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    folder = case.tmp_path / "reqs"
    folder.mkdir()
    (folder / "top.txt").write_text("plainlib==1.0 \\\n  # the rest\n-r nested.txt\n")
    nested = folder / "nested.txt"
    nested.write_text(f"hostile @ {case.files}/hostile-1.0.tar.gz#sha256={digest}\n")
    items = {i.name: i for i in resolve([], requirement_files=[str(folder / "top.txt")],
                                        index_url=case.url, work=case.tmp_path / "a")}
    assert sorted(items) == ["hostile", "plaindep", "plainlib"]
    assert (items["hostile"].url, items["hostile"].sha256, items["hostile"].requested) == (
        f"{case.files}/hostile-1.0.tar.gz", digest, True)
    hashed = folder / "hashed.txt"  # with hashes, pip wants one on every line
    hashed.write_text(f"hostile @ {case.files}/hostile-1.0.tar.gz --hash=sha256:{digest}\n")
    [item] = resolve([], requirement_files=[str(hashed)], index_url=case.url,
                     work=case.tmp_path / "b")
    assert (item.name, item.sha256) == ("hostile", digest)
    hashed.write_text(f"hostile @ {case.files}/hostile-1.0.tar.gz --hash=sha256:{'0' * 64}\n")
    with pytest.raises(FetchError) as refused:
        resolve([], requirement_files=[str(hashed)], index_url=case.url,
                work=case.tmp_path / "c")
    assert refused.value.message == (
        f"hostile @ {case.files}/hostile-1.0.tar.gz: hostile-1.0.tar.gz does not have a sha256 "
        "its --hash options give; refused")
    _nothing_left(case)
    assert case.networked() == []


@needs_bwrap
def test_a_vcs_url_is_refused_in_one_line(
    case: _Case, capsys: pytest.CaptureFixture[str],
) -> None:
    """A VCS checkout only pip can fetch (and then prepare): refused before pip runs."""
    spec = "hostile @ git+https://127.0.0.1:1/hostile.git"
    code, _ = _install(case, spec)
    err = capsys.readouterr().err
    assert code == 4, err
    assert err.splitlines()[-1].startswith(
        f"siglink: error: {spec}: not fetched: only pip can fetch it (a VCS URL, ")
    assert case.sandboxes() == []


def _plain_sdist(folder: Path, name: str, requires: tuple[str, ...] = ()) -> Path:
    project = folder / f"{name}-1.0"
    (project / name).mkdir(parents=True)
    (project / name / "__init__.py").write_text("def go(n: int) -> int:\n    return n\n")
    (project / "setup.py").write_text(
        f"from setuptools import setup\nsetup(name={name!r}, version='1.0', "
        f"packages=[{name!r}], install_requires={list(requires)!r})\n")
    (project / "PKG-INFO").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    sdist = folder / f"{name}-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(project, arcname=f"{name}-1.0")
    return sdist


@needs_bwrap
def test_a_built_wheel_needing_another_sdist_takes_another_round_within_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``chaintop`` (a wheel) needs ``chaina``, an sdist whose wheel needs ``chainb``, an sdist
    too: two rounds; with room for one, a clear error names what is still missing."""
    made = tmp_path / "made"
    made.mkdir()
    _simple_index(tmp_path / "index", [
        _wheel(made, "chaintop", requires=("chaina==1.0",)),
        _plain_sdist(made, "chaina", ("chainb==1.0",)), _plain_sdist(made, "chainb")])
    url = (tmp_path / "index" / "simple").as_uri()
    items = resolve(["chaintop==1.0"], index_url=url, work=tmp_path / "a")
    assert sorted((i.name, i.built is not None) for i in items) == [
        ("chaina", True), ("chainb", True), ("chaintop", False)]
    monkeypatch.setattr(fetch, "_SDIST_ROUNDS", 1)
    with pytest.raises(FetchError) as stopped:
        resolve(["chaintop==1.0"], index_url=url, work=tmp_path / "b")
    assert stopped.value.message == (
        "chaintop==1.0: cannot be resolved: chainb==1.0 has no wheel either, and 1 sdists were "
        "built already; stopped")
