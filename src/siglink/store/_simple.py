"""siglink's own client of a package index's simple repository API (PEP 503, PEP 592).

siglink reads project pages and downloads sdists itself rather than asking pip, because pip
prepares an sdist's metadata as it finds or downloads it: it runs the sdist's build code, with
the network and the user's index credentials. Here nothing runs: a page is parsed as HTML, an
archive is read into memory within a bound, hashed, and written out.

A location is an index page (``http(s):`` or ``file:``; the URL's userinfo is sent as basic
authentication, never in the request line, never on a redirect) or a local folder (its file
names are its links, as pip's ``find-links`` reads one).

>>> shown("https://alice:secret@example.org/simple/")
'https://example.org/simple/'
"""

from __future__ import annotations

import base64
import hashlib
import html
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

__all__ = ["HashMismatchError", "Link", "download", "file_path", "project_links", "read", "shown"]

PAGE_BYTES: Final = 64 << 20
"""The most of one index page read."""

READ_SECONDS: Final = 30.0
"""The longest one network read may wait for a byte."""

TOTAL_SECONDS: Final = 600.0
"""The longest one page or file may take to arrive, however it trickles (then one more read's
wait at most)."""

HASHES: Final = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
"""The hash names a link's fragment may give (PEP 503: any of ``hashlib``'s guaranteed
ones); each is checked. A fragment naming another hash is refused, never ignored."""


def __dir__() -> list[str]:
    return list(__all__)


class _Anchors(HTMLParser):
    """The ``<a>`` elements of a PEP 503 project page (their attributes) and its ``<base>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str | None]] = []
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")


def file_path(url: str) -> Path | None:
    """The local path of a ``file:`` URL; None for any other URL."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def read(url: str, limit: int) -> bytes:
    """The body at ``url`` (``file:``, ``http(s):``; the URL's userinfo sent as basic
    authentication), at most ``limit`` bytes.

    :raises OSError: it cannot be read, or is larger than ``limit`` (``urllib.error.HTTPError``
        for an HTTP error status).
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = file_path(url)
        if path is not None and path.is_dir():
            path = path / "index.html"
        with open(path or "", "rb") as f:
            data = f.read(limit + 1)
    elif parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (
            f":{parts.port}" if parts.port else "")
        request = urllib.request.Request(
            urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
            headers={"Accept": "text/html", "User-Agent": "siglink"})
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            token = base64.b64encode(pair.encode()).decode("ascii")
            request.add_unredirected_header("Authorization", f"Basic {token}")  # not redirected
        # a fresh opener: urlopen's shared one keeps the proxies of its first use
        opener = urllib.request.build_opener(_HTTPRedirects())
        with opener.open(request, timeout=READ_SECONDS) as response:
            data = _bounded(response, limit, time.monotonic() + TOTAL_SECONDS)
    else:
        raise OSError(f"unsupported URL scheme {parts.scheme!r}")
    if len(data) > limit:
        raise OSError(f"larger than {limit} bytes")
    return data


class _HTTPRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects followed to HTTP(S) only, and never from HTTPS down to HTTP (urllib's own
    handler follows ``ftp:`` too)."""

    def redirect_request(  # noqa: PLR0917 - urllib calls it so
            self, req: urllib.request.Request, fp: Any, code: int, msg: str,
            headers: Any, newurl: str) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url).scheme, urlsplit(newurl).scheme
        if new not in ("http", "https") or (old == "https" and new == "http"):
            raise urllib.error.URLError(
                f"refused a redirect from {old}: to {shown(newurl)}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _bounded(response: Any, limit: int, deadline: float) -> bytes:
    """At most ``limit`` + 1 bytes of ``response``, refused once ``deadline`` passes (a server
    trickling a byte per read timeout would otherwise hold the command open forever)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = response.read1(min(1 << 16, limit + 1 - size))  # what has come, not more
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise OSError(f"still arriving after {TOTAL_SECONDS:g} s; stopped")
    return b"".join(chunks)


def shown(url: str) -> str:
    """``url`` without its userinfo (credentials never reach a message or a record)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


@dataclass(frozen=True)
class Link:
    """One file a project page links: its URL (absolute, the page's userinfo kept when the
    link is relative), file name, ``data-yanked`` reason (``""`` when yanked without one, None
    when not yanked), ``data-requires-python`` and ``#sha256=``."""

    url: str
    filename: str
    yanked: str | None
    requires_python: str | None
    sha256: str | None


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:300] or type(e).__name__


def project_links(pages: Sequence[str]) -> tuple[list[Link], list[str]]:
    """Every file the project ``pages`` link, and a description of each page that could not
    be read (a page that does not exist, HTTP 404, is passed over: that index lacks the
    project). A remote page may link only remote files."""
    found: list[Link] = []
    unread: list[str] = []
    for page in pages:
        folder, where = file_path(page), page
        try:
            if folder is not None and folder.is_dir() and not (folder / "index.html").exists():
                text = "".join(f'<a href="{html.escape(p.name)}"></a>'
                               for p in sorted(folder.iterdir()))
                where = folder.as_uri() + "/"
            else:
                text = read(page, PAGE_BYTES).decode("utf-8", "replace")
        except FileNotFoundError:
            continue
        except urllib.error.HTTPError as e:
            if e.code != 404:
                unread.append(f"{shown(page)}: HTTP {e.code}")
            continue
        except (OSError, ValueError) as e:  # as pip: another index may have it
            unread.append(f"{shown(page)}: {_one_line(e)}")
            continue
        parser = _Anchors()
        parser.feed(text)
        base = urljoin(where, parser.base or "")
        for anchor in parser.links:
            url = urljoin(base, anchor.get("href") or "")
            location, _, fragment = url.partition("#")
            if urlsplit(url).scheme not in ("http", "https", urlsplit(page).scheme):
                continue  # a remote page may not name a local file
            filename = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
            if not filename or "\0" in filename or filename in (".", ".."):
                continue
            digest = fragment.partition("sha256=")[2] if fragment.startswith("sha256=") else ""
            found.append(Link(
                url=url, filename=filename,
                yanked=(anchor.get("data-yanked") or "") if "data-yanked" in anchor else None,
                requires_python=anchor.get("data-requires-python"),
                sha256=digest.lower() if len(digest) == 64 and all(
                    c in "0123456789abcdefABCDEF" for c in digest) else None))
    return found, unread


def _names_a_hash(key: str) -> bool:
    """Whether a URL fragment's key names a hash (``sha3_256=``, ``blake2b=``), not another
    fragment (``egg=``, ``subdirectory=``)."""
    return key.lower() in hashlib.algorithms_available or key.lower().startswith(
        ("sha", "md", "blake"))


class HashMismatchError(ValueError):
    """A downloaded file whose sha256 is not the one the index (or the URL) gave."""


def download(url: str, dest: Path, limit: int, *, sha256: str | None = None) -> tuple[Path, str]:
    """Download the file at ``url`` into ``dest`` under its own name; return its path and
    sha256. ``sha256`` and the hash of the URL's fragment (``#sha256=``, ``#sha512=``, any of
    :data:`HASHES`) must match.

    :raises OSError: it cannot be read, is larger than ``limit``, or names no file.
    :raises HashMismatchError: a hash differs, or the fragment names one not checkable here.
    """
    location, _, fragment = url.partition("#")
    filename = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
    if "/" in filename or "\0" in filename or filename in ("", ".", ".."):
        raise OSError(f"{shown(location)} names no file")
    algorithm, _, given = fragment.partition("=")
    checked = algorithm in HASHES
    if not checked and _names_a_hash(algorithm):
        raise HashMismatchError(f"{filename}: the index gives its {algorithm} hash, which "
                                "siglink cannot check; refused")
    data = read(location, limit)
    digest = hashlib.sha256(data).hexdigest()
    if sha256 and digest != sha256.lower():
        raise HashMismatchError(f"{filename} does not have the sha256 the index gave; refused")
    if checked and hashlib.new(algorithm, data).hexdigest() != given.lower():
        raise HashMismatchError(f"{filename} does not have the {algorithm} the index gave; "
                                "refused")
    path = dest / filename
    path.write_bytes(data)
    return path, digest
