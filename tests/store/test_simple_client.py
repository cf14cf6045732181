"""siglink's own index client against a hostile index on loopback: every hash a link gives is
checked, pre-releases are chosen as PEP 440 says, a trickling server is stopped, and a
redirect leads only to HTTP(S)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from siglink.errors import FetchError
from siglink.store import _simple, fetch

SDIST = b"not really an sdist, never unpacked here"


class _Index(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        if self.path == "/slow":
            self.send_response(200)
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.25)
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _page(links: list[str]) -> bytes:
    return ("<html><body>" + "".join(f'<a href="{link}">x</a>' for link in links)
            + "</body></html>").encode()


def test_a_hash_of_any_algorithm_the_link_gives_is_checked(index: str, tmp_path: Path) -> None:
    _Index.routes = {"/f/foo-1.0.tar.gz": (200, {}, SDIST)}
    right = hashlib.sha512(SDIST).hexdigest()
    path, digest = _simple.download(f"{index}/f/foo-1.0.tar.gz#sha512={right}", tmp_path, 1 << 20)
    assert path.read_bytes() == SDIST and digest == hashlib.sha256(SDIST).hexdigest()
    for algorithm in ("sha512", "md5", "sha384"):
        with pytest.raises(_simple.HashMismatchError, match=f"the {algorithm} the index gave"):
            _simple.download(f"{index}/f/foo-1.0.tar.gz#{algorithm}={'0' * 32}", tmp_path,
                             1 << 20)
    with pytest.raises(_simple.HashMismatchError, match="sha3_256 hash, which siglink cannot"):
        _simple.download(f"{index}/f/foo-1.0.tar.gz#sha3_256={'0' * 64}", tmp_path, 1 << 20)


def test_an_sdist_whose_sha512_differs_is_not_fetched(index: str, tmp_path: Path) -> None:
    _Index.routes = {
        "/simple/foo/": (200, {}, _page([f"/f/foo-1.0.tar.gz#sha512={'0' * 128}"])),
        "/f/foo-1.0.tar.gz": (200, {}, SDIST),
    }
    with pytest.raises(FetchError, match=r"foo==1\.0: foo-1\.0\.tar\.gz does not have the sha512"):
        fetch._sdist_from_index("foo==1.0", tmp_path, index_url=f"{index}/simple/")
    assert not (tmp_path / "foo-1.0.tar.gz").exists()


def test_a_pre_release_is_chosen_only_as_pep_440_says(index: str, tmp_path: Path) -> None:
    files = ["foo-1.0.tar.gz", "foo-1.5.tar.gz", "foo-2.0b1.tar.gz"]
    _Index.routes = {"/simple/foo/": (200, {}, _page([f"/f/{f}" for f in files]))}
    _Index.routes.update({f"/f/{f}": (200, {}, SDIST) for f in files})
    url = f"{index}/simple/"
    assert fetch._sdist_from_index("foo>=1.0", tmp_path, index_url=url)[1].endswith(
        "foo-1.5.tar.gz")
    assert fetch._sdist_from_index("foo", tmp_path, index_url=url)[1].endswith("foo-1.5.tar.gz")
    assert fetch._sdist_from_index("foo>=2.0b1", tmp_path, index_url=url)[1].endswith(
        "foo-2.0b1.tar.gz")
    assert fetch._sdist_from_index("foo>1.5", tmp_path, index_url=url)[1].endswith(
        "foo-2.0b1.tar.gz")  # nothing final matches


def test_a_trickling_server_is_stopped(index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_simple, "TOTAL_SECONDS", 1.0)
    started = time.monotonic()
    with pytest.raises(OSError, match="still arriving after 1 s"):
        _simple.read(f"{index}/slow", 1 << 20)
    assert time.monotonic() - started < 5  # the server trickles for 10 s


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:1/foo-1.0.tar.gz", "file:///etc/passwd"])
def test_a_redirect_leads_only_to_http(index: str, tmp_path: Path, target: str) -> None:
    _Index.routes = {"/f/foo-1.0.tar.gz": (302, {"Location": target}, b"")}
    with pytest.raises(OSError, match=r"(?i)redirect"):
        _simple.download(f"{index}/f/foo-1.0.tar.gz", tmp_path, 1 << 20)
    assert list(tmp_path.iterdir()) == []
