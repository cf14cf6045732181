"""Bytes that are not UTF-8, and strings that are not valid Unicode, wherever siglink takes
them: the current directory, an application's path, the store's path, a library's file names,
manifests, signature text, C headers and declarations, wheel metadata, arguments. Each works,
or is refused in one line naming the offending thing with the documented exit code (README,
"Exit codes"): never a traceback, never exit 70 (an internal error).

The commands run as the user runs them (``python -m siglink``, a real process) with paths
passed as bytes, since that is how the OS hands them over; stderr shows a byte that is not
UTF-8 as its ``surrogateescape`` escape (``\\udcff``), stdout writes it back as the byte.
"""

from __future__ import annotations

import base64
import ctypes.util
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest

from siglink.cli.main import main
from siglink.contracts.manifest import Manifest
from siglink.contracts.signature import Signature
from siglink.demo import wheels
from siglink.errors import ManifestError, SignatureSyntaxError

FF = b"\xff"
GREET = "def greet(who, *, loud=False):\n    return ('HELLO ' if loud else 'hello ') + who\n"
APP = "import textkit\nprint(textkit.greet('x'))\n"


def siglink(*args: str | bytes | os.PathLike[str], store: bytes, cwd: bytes | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m siglink ARGS`` against ``store``; never a traceback, never exit 70."""
    environ = {**os.environ, **(env or {})}
    environ["SIGLINK_STORE"] = os.fsdecode(store)
    environ.pop("SIGLINK_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "siglink", *(os.fsencode(a) for a in args)],
        cwd=cwd, env={os.fsencode(k): os.fsencode(v) for k, v in environ.items()},
        capture_output=True, timeout=300, check=False)
    assert b"Traceback" not in result.stderr + result.stdout, result.stderr.decode(errors="replace")
    assert result.returncode != 70, result.stderr.decode(errors="replace")
    return result


def escaped(path: bytes) -> bytes:
    """How stderr shows ``path``: each byte that is not UTF-8 as ``\\udcXX``."""
    return os.fsdecode(path).encode("utf-8", "backslashreplace")


def error(message: bytes) -> bytes:
    return b"siglink: error: " + message + b"\n"


@pytest.fixture
def base(tmp_path: Path) -> bytes:
    return os.fsencode(tmp_path)


@pytest.fixture
def store(base: bytes, tmp_path: Path) -> bytes:
    """A store holding textkit 1.0.0 (``greet``)."""
    wheel = wheels.make_wheel(tmp_path / "wheels", "textkit", "1.0.0",
                              {"textkit/__init__.py": GREET})
    root = base + b"/store"
    assert main(["install", "--no-deps", "--store", os.fsdecode(root), str(wheel)]) == 0
    return root


def _write(path: bytes, data: str | bytes) -> bytes:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


# -- paths: the current directory, the application, the store ----------------------------------


def test_run_m_from_a_directory_whose_name_is_not_utf8(store: bytes, base: bytes) -> None:
    """Item 1: the ``-m`` application's manifest lives under the directory's %-quoted bytes."""
    cwd = base + b"/d" + FF
    _write(cwd + b"/mod.py", APP)
    for _cold_then_warm in range(2):
        result = siglink("run", "-m", "mod", store=store, cwd=cwd)
        assert (result.returncode, result.stdout) == (0, b"hello x\n"), result.stderr
    assert os.listdir(store + b"/apps/modules") == [quote(cwd, safe="").encode()]
    listed = siglink("apps", store=store, cwd=cwd).stdout.splitlines()
    assert [line.split() for line in listed[1:]] == [
        [b"-m", b"mod", b"(in", cwd + b")", b"healthy", b"textkit", b"1.0.0"]]


def test_an_application_whose_path_is_not_utf8_builds_plans_and_runs(
        store: bytes, base: bytes) -> None:
    """Item 2: the index keeps such a path (escaped) and gives it back."""
    app = _write(base + b"/app" + FF + b".py", APP)
    assert siglink("build", app, store=store).returncode == 0
    planned = siglink("plan", app, store=store)
    assert planned.returncode == 0 and b"textkit  1.0.0" in planned.stdout
    for _cold_then_warm in range(2):
        ran = siglink("run", app, store=store)
        assert (ran.returncode, ran.stdout) == (0, b"hello x\n"), ran.stderr
    assert app in siglink("who-uses", "textkit", store=store).stdout
    apps = json.loads(siglink("apps", "--json", store=store).stdout)
    assert [a["app"] for a in apps] == [os.fsdecode(app)]
    assert siglink("forget", app, store=store).returncode == 0
    assert json.loads(siglink("apps", "--json", store=store).stdout) == []


@pytest.mark.parametrize("how", ["--store", "SIGLINK_STORE"])
def test_a_store_whose_path_is_not_utf8(base: bytes, tmp_path: Path, how: str) -> None:
    wheel = wheels.make_wheel(tmp_path / "wheels", "textkit", "1.0.0",
                              {"textkit/__init__.py": GREET})
    root = base + b"/st" + FF + b"re"
    app = _write(base + b"/app.py", APP)
    option: tuple[bytes, ...] = (b"--store", root) if how == "--store" else ()
    commands = [("install", "--no-deps", os.fsencode(wheel)), ("run", app), ("run", app),
                ("list",), ("verify",), ("store", "repair"), ("apps",)]
    for command in commands:
        result = siglink(*option, *command, store=root if how == "SIGLINK_STORE" else base)
        assert result.returncode == 0, (command, result.stderr)
    assert os.path.isdir(root + b"/libs/textkit/1.0.0")


# -- a library's files, wheel metadata, project metadata ---------------------------------------


def test_a_library_file_whose_name_is_not_utf8_is_refused(store: bytes, base: bytes) -> None:
    """Item 3: no wheel could record the name (RECORD is UTF-8): refused, naming the file."""
    package = base + b"/src/lib3"
    _write(package + b"/__init__.py", "def f(x: int) -> int:\n    return x\n")
    bad = _write(package + b"/b" + FF + b"ad.py", "def g() -> None: ...\n")
    expected = error(escaped(bad) + b": a file name that is not UTF-8; a library's files must "
                     b"have UTF-8 names")
    for args in (("exports", package), ("exports", base + b"/src"), ("diff", package, package)):
        result = siglink(*args, store=store)
        assert (result.returncode, result.stderr) == (2, expected)


def _wheel(folder: Path, metadata: bytes) -> Path:
    """``evil-1.0-py3-none-any.whl`` with ``metadata`` as its METADATA, RECORD correct."""
    files = {"evil/__init__.py": b"def hello(n: str) -> str:\n    return n\n",
             "evil-1.0.dist-info/METADATA": metadata,
             "evil-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: t\n"
                                         b"Root-Is-Purelib: true\nTag: py3-none-any\n"}
    rows = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"  # noqa: E501
            for name, data in files.items()]
    files["evil-1.0.dist-info/RECORD"] = ("\n".join([*rows, "evil-1.0.dist-info/RECORD,,"])
                                          + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(("field", "value", "byte"), [
    ("Requires-Dist", b"\xffoo", "ff"), ("Name", b"ev\xffil", "ff"),
    ("Requires-Python", b">=3\xff", "ff"), ("Requires-Dist", b"\xed\xa0\x80", "ed"),
])
def test_wheel_metadata_that_is_not_utf8_is_refused(
        store: bytes, tmp_path: Path, field: str, value: bytes, byte: str) -> None:
    """Item 7: the fields siglink reads must be UTF-8 (the email parser would hand back a
    ``Header`` object, not a string); the refusal names the wheel and the field."""
    line = b"Name: evil" if field == "Name" else field.encode() + b": " + value
    metadata = b"Metadata-Version: 2.1\n" + (
        b"Name: ev\xffil\nVersion: 1.0\n" if field == "Name"
        else b"Name: evil\nVersion: 1.0\n" + line + b"\n")
    wheel = _wheel(tmp_path / "w", metadata)
    before = sorted(os.listdir(store + b"/libs"))
    shown = os.fsdecode(value).encode("utf-8", "backslashreplace")
    installed = siglink("install", "--no-deps", wheel, store=store)
    assert (installed.returncode, installed.stderr) == (2, error(
        b"evil-1.0-py3-none-any.whl: invalid wheel metadata: evil-1.0.dist-info/METADATA: "
        + field.encode() + b" is not UTF-8 text (byte 0x" + byte.encode() + b"): " + shown))
    assert sorted(os.listdir(store + b"/libs")) == before
    exported = siglink("exports", wheel, store=store)
    assert (exported.returncode, exported.stderr) == (2, error(
        os.fsencode(wheel) + b": METADATA: " + field.encode() + b" is not UTF-8 text (byte 0x"
        + byte.encode() + b"): " + shown))


def test_a_field_siglink_never_reads_may_be_latin1(store: bytes, tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "w", b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"
                                   b"Summary: caf\xe9\nAuthor: J\xfcrgen\n")
    assert siglink("install", "--no-deps", wheel, store=store).returncode == 0
    assert siglink("exports", wheel, store=store).returncode == 0


def test_project_metadata_and_requirement_files_that_are_not_utf8(
        store: bytes, base: bytes) -> None:
    project = base + b"/proj"
    _write(project + b"/setup.cfg", b"[metadata]\nname = pk\xff\nversion = 0.1\n")
    _write(project + b"/pk/__init__.py", "def main() -> None: ...\n")
    result = siglink("exports", project, store=store)
    assert (result.returncode, result.stderr) == (2, error(
        project + b": setup.cfg: not UTF-8 text (byte 0xff at line 2, column 10)"))
    requirements = _write(base + b"/req.txt", b"textkit\xff\n")
    for option in ("-r", "-c"):
        args = (option, requirements) if option == "-r" else (option, requirements, "textkit")
        result = siglink("install", *args, store=store)
        assert result.returncode == 2
        assert result.stderr.splitlines()[-1].startswith(error(
            option.encode() + b" " + requirements
            + b": not UTF-8 text (byte 0xff at line 1, column 8)")[:-1])
    named = _write(base + b"/req" + FF + b".txt", "textkit\n")
    result = siglink("install", "--no-deps", "-r", named, store=store)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == error(
        b"-r " + escaped(named) + b": pip cannot read a file whose path is not UTF-8; copy or "
        b"rename it; nothing was installed")[:-1]


# -- manifests and signature text ------------------------------------------------------------

MANIFEST = {"format": 1, "unit": {"name": "x", "version": "1"},
            "exports": {"x.f": {"kind": "function", "signature": "(a: int) -> int"},
                        "x.C": {"kind": "class", "signature": "()",
                                "members": {"size": {"kind": "property", "type": "int"}}}},
            "imports": {"y": [{"path": "y.g"}]}}


@pytest.mark.parametrize(("where", "edit", "message"), [
    ("unit name", lambda m: m["unit"].update(name="x\ud800"),
     "$.unit.name: not valid text (U+D800 at position 2 is not a character)"),
    ("export name", lambda m: m["exports"].update({"x.\ud800": {"kind": "function"}}),
     '$.exports: key "x.\\ud800" is not valid text'),
    ("signature", lambda m: m["exports"]["x.f"].update(signature="(a: \udcff) -> int"),
     '$.exports["x.f"].signature: not valid text (U+DCFF at position 5 is not a character)'),
    ("type", lambda m: m["exports"]["x.C"]["members"]["size"].update(type="\ud800"),
     '$.exports["x.C"].members.size.type: not valid text (U+D800 at position 1 is not a '
     'character)'),
    ("import", lambda m: m["imports"]["y"][0].update(path="y.\udfff"),
     "$.imports.y[0].path: not valid text (U+DFFF at position 3 is not a character)"),
])
def test_a_manifest_with_a_lone_surrogate_is_refused_naming_the_field(
        store: bytes, base: bytes, where: str, edit: object, message: str) -> None:
    """Item 4: JSON's ``\\ud800`` escape is valid JSON, not valid text: refused at load, naming
    the file and the JSON path, before a signature is parsed, a digest computed, an index
    written or a diff shown."""
    data = json.loads(json.dumps(MANIFEST))
    edit(data)  # type: ignore[operator]
    path = _write(base + b"/m.json", json.dumps(data))
    expected = error(path + b": corrupt manifest: " + message.encode())
    for args in (("exports", path), ("diff", path, path)):
        result = siglink(*args, store=store)
        assert (result.returncode, result.stderr) == (2, expected), where
    with pytest.raises(ManifestError) as caught:
        Manifest.loads(json.dumps(data, ensure_ascii=False), source="m.json")
    assert caught.value.message == f"m.json: corrupt manifest: {message}"


def test_an_application_manifest_may_name_files_that_are_not_utf8() -> None:
    """What ``siglink build`` writes for ``app\\xff.py`` reads back: file names, the entry
    and locations may hold a byte that is not UTF-8 (``\\udc80``-``\\udcff``)."""
    data = {**MANIFEST, "unit": {"name": "app\udcff", "version": "0", "kind": "application"},
            "entry": "script:app\udcff.py", "files": {"app\udcff.py": "0" * 64}}
    manifest = Manifest.loads(json.dumps(data), source="m.json")
    assert manifest.files == {"app\udcff.py": "0" * 64}
    assert Manifest.loads(manifest.dumps()).digest == manifest.digest
    with pytest.raises(ManifestError, match=r"\$\.entry: not valid text \(U\+D800"):
        Manifest.loads(json.dumps({**data, "entry": "script:\ud800"}), source="m.json")


@pytest.mark.parametrize(("text", "position", "code"), [
    ("(s: \ud800)", 4, "D800"), ("(\udcff)", 1, "DCFF"), ('(a="\udfff")', 4, "DFFF"),
    ("(a: 'x\udc80y') -> int", 6, "DC80"),
])
def test_signature_text_with_a_lone_surrogate(text: str, position: int, code: str) -> None:
    """Item 5: the contracts' own parse error, never ``UnicodeEncodeError`` from ``ast``."""
    with pytest.raises(SignatureSyntaxError) as caught:
        Signature.parse(text)
    assert (caught.value.position, caught.value.reason) == (position, f"U+{code} is not a "
                                                                      "character")
    assert caught.value.text == text.replace(text[position], "\ufffd")
    assert "\n" + " " * (4 + position) + "^" in str(caught.value)


# -- C headers and declarations ----------------------------------------------------------------

CRC32 = "unsigned long crc32(unsigned long, const unsigned char *, unsigned int);"


@pytest.fixture
def libz() -> str:
    if shutil.which(os.environ.get("CC", "gcc")) is None:
        pytest.skip("no C compiler (gcc)")
    if ctypes.util.find_library("z") is None:
        pytest.skip("zlib is not installed (apt-get install zlib1g)")
    from siglink.native import find_library

    return find_library("z")[0]


def test_c_headers_and_declarations_that_are_not_utf8(
        store: bytes, base: bytes, libz: str) -> None:
    """Item 6: a declaration that is not UTF-8 is refused naming file:line (the text given on
    the command line, by position); a comment in Latin-1 and a header path that is not UTF-8
    are fine."""
    result = siglink("native", "check", libz, "int f\udcff(int);", store=store)
    assert (result.returncode, result.stderr) == (2, error(
        b"<declarations>: not valid text (U+DCFF at position 6 is not a character)"))
    bad = _write(base + b"/bad.h", b"int f(int); /* caf\xe9 */\nint g\xff(int);\n")
    for args in (("native", "check", libz, bad),
                 ("native", "manifest", libz, "--header", bad, "-o", base + b"/z.so")):
        result = siglink(*args, store=store)
        assert (result.returncode, result.stderr) == (2, error(
            b"bad.h:2: not UTF-8 text (byte 0xff): int g\\udcff(int);"))
    header = _write(base + b"/zh" + FF + b".h", b"/* caf\xe9 */\n" + CRC32.encode() + b"\n")
    out = base + b"/o" + FF + b"/libz.so"
    made = siglink("native", "manifest", libz, "--header", header, "-o", out, store=store)
    assert made.returncode == 0, made.stderr
    for declarations in (CRC32, header):
        checked = siglink("native", "check", out, declarations, store=store)
        assert (checked.returncode, checked.stdout) == (0, out + b": ok\nidentical\n")


# -- running modules, arguments, bundles ------------------------------------------------------


def test_run_m_of_a_package_without_main_is_one_line(store: bytes, base: bytes) -> None:
    """Item 8: python -m's own words, exit 2 (bad input), for a package in the store and for
    one in the current directory."""
    result = siglink("run", "-m", "textkit", store=store, cwd=base)
    assert (result.returncode, result.stderr) == (2, error(
        b"No module named textkit.__main__; 'textkit' is a package and cannot be directly "
        b"executed"))
    _write(base + b"/pk/__init__.py", APP)
    for command in ("build", "run"):
        result = siglink(command, "-m", "pk", store=store, cwd=base)
        assert (result.returncode, result.stderr) == (2, error(
            b"No module named pk.__main__; 'pk' is a package and cannot be directly executed "
            b"(in " + base + b")"))


def test_arguments_and_bundles(store: bytes, base: bytes) -> None:
    result = siglink("yank", "textkit==1.0.0", "--reason", "bad \udcff", store=store)
    assert (result.returncode, result.stderr) == (2, error(
        b"--reason: not valid text (U+DCFF at position 5 is not a character)"))
    app = _write(base + b"/app" + FF + b".py", APP)
    result = siglink("bundle", app, "-o", base + b"/app.pyz", store=store)
    assert (result.returncode, result.stderr) == (2, error(
        b"app/app\\udcff.py: a file name that is not UTF-8 cannot be stored in a bundle; "
        b"rename it"))
    folder = base + b"/d" + FF
    plain = _write(folder + b"/app.py", APP)
    made = siglink("bundle", plain, "-o", folder + b"/app.pyz", store=store)
    assert made.returncode == 0, made.stderr
    ran = subprocess.run([sys.executable, folder + b"/app.pyz"], capture_output=True,
                         check=False)
    assert (ran.returncode, ran.stdout) == (0, b"hello x\n"), ran.stderr


def test_json_output_escapes_what_is_not_text(store: bytes, base: bytes) -> None:
    """``--json`` writes a byte that is not UTF-8 as JSON's ``\\udcff``, read back as the
    path, whatever the locale's encoding (here a strict one)."""
    app = _write(base + b"/a" + FF + b"/app.py", APP)
    assert siglink("build", app, store=store).returncode == 0
    result = siglink("plan", app, "--json", store=store, env={"PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 0
    result.stdout.decode("utf-8")  # valid UTF-8 whatever the path holds
    assert b"\\udcff" in result.stdout
    table = siglink("apps", store=store, env={"PYTHONIOENCODING": "utf-8"})
    assert table.returncode == 0 and b"a" + FF + b"/app.py" in table.stdout


def test_elf_names_that_are_not_utf8_are_bytes_not_damage(
        store: bytes, base: bytes, libz: str) -> None:
    """ELF names are bytes: a symbol and a soname that are not UTF-8 are a library, not a
    damaged file; its manifest (soname included) reads back."""
    source = _write(base + b"/sym.c", b'int good(int x) { return x; }\n'
                                      b'int bad(int x) __asm__("bad\\377sym");\n'
                                      b"int bad(int x) { return x + 1; }\n")
    library = base + b"/libsym.so"
    subprocess.run([os.environ.get("CC", "gcc"), "-shared", "-fPIC", "-o", library, source,
                    b"-Wl,-soname,libs\xffym.so"], check=True)
    header = _write(base + b"/sym.h", "int good(int x);\n")
    out = base + b"/out.so"
    made = siglink("native", "manifest", library, "--header", header, "-o", out, store=store)
    assert made.returncode == 0, made.stderr
    checked = siglink("native", "check", out, "int good(int x);", store=store)
    assert (checked.returncode, checked.stdout) == (0, out + b": ok\nidentical\n")


def test_files_beside_an_application_and_on_a_plugin_path(store: bytes, base: bytes) -> None:
    app = _write(base + b"/capp/app.py", APP)
    pyproject = _write(base + b"/capp/pyproject.toml",
                       b'[tool.siglink]\nconstraints = ["textkit\xff"]\n')
    result = siglink("build", app, store=store)
    assert (result.returncode, result.stderr) == (2, error(
        pyproject + b": not UTF-8 text (byte 0xff at line 2, column 24)"))
    site = base + b"/site" + FF
    _write(site + b"/foo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: foo\n"
                                                  "Version: 1.0\n")
    _write(site + b"/foo-1.0.dist-info/entry_points.txt", b"[pytest11]\nfoo = foo\xff.plugin\n")
    result = siglink("pluggy-check", "pytest", "--path", site, store=store)
    assert (result.returncode, result.stderr) == (2, error(
        escaped(site) + b"/foo-1.0.dist-info: metadata or entry points not UTF-8 text "
        b"(byte 0xff)"))


def test_a_manifest_naming_a_file_with_nul_is_refused(store: bytes, base: bytes) -> None:
    """No path holds NUL (``open`` raises ``ValueError``): a manifest naming one is refused
    when read, by every command that reads it, warm or cold."""
    app = _write(base + b"/app.py", APP)
    assert siglink("build", app, store=store).returncode == 0
    manifest = base + b"/app.siglink.json"
    with open(manifest, "rb") as f:
        data = json.load(f)
    data["files"] = {"app\u0000.py": "0" * 64}
    _write(manifest, json.dumps(data))
    expected = error(manifest + b': corrupt manifest: $.files: key "app\\u0000.py" is not valid '
                     b"text")
    for args in (("plan", app), ("run", app), ("bundle", app, "-o", base + b"/app.pyz")):
        result = siglink(*args, store=store)
        assert (result.returncode, result.stderr) == (2, expected), args
    assert siglink("apps", store=store).returncode == 0
    with pytest.raises(ManifestError, match=r"\$\.entry: not valid text \(NUL at position 8\)"):
        Manifest.loads(json.dumps({**data, "files": {}, "entry": "script:\u0000"}))
