"""Downstream suites: real projects' own tests against each candidate of one dependency, and
what siglink's plan says for the same project.

    python3 benchmarks/accuracy/downstream.py [--json] [--cache DIR] [--only NAME]

For each downstream (:data:`DOWNSTREAMS`): its sdist gives the test suite; one virtual
environment per downstream holds the downstream's wheel, its other dependencies and its test
dependencies at fixed pins (wheels only: nothing is built, no setup.py runs), and each
candidate of the dependency in turn (``pip install --no-deps --force-reinstall``, so the
candidate is the only thing that changes). The suite runs with pytest in a sandbox
(bubblewrap: a read-only root, no network but loopback, a private /tmp), with the project's
own configuration (``filterwarnings = error`` included); tests that need the internet, and
that the project does not mark, are deselected by name below, each with its reason.

siglink's side: a store holding every candidate (and the other dependencies at the same pins),
the downstream package's own source (from the sdist, beside a one-line ``__main__.py`` that
imports it, and the project's configuration files: its declared dependencies and warning
policy) built as the consumer with ``siglink build``'s
:func:`~siglink.link.build.build_app`, twice: as ``siglink build`` does by default (against the
newest version serving every use) and against the oldest candidate (the version a project
developed on an older release would have been built against). Each build is planned with
:func:`~siglink.link.plan.compute`: once against the whole store (the version siglink picks),
and once per candidate with the store narrowed to that candidate (does siglink accept it?).
The target: the pick is a version the suite passes on, and no version the suite passes on is
refused.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DEFAULT_CACHE,
    _pip_env,
    base_python,
    download,
    sandbox_kind,
    sandboxed,
)

CONFIG_FILES = ("pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini")
"""The project's configuration files, copied beside its source for ``siglink build``."""
SUITE_TIMEOUT = 1200
TEST_TIMEOUT = 120
"""A test that hangs longer than this fails (pytest-timeout), as a hang is a failure."""
TEST_RUNNER = ("pytest==7.4.4", "pytest-timeout==2.3.1")


@dataclass(frozen=True)
class Downstream:
    """A downstream project whose suite is run against candidates of one dependency."""

    name: str
    version: str
    package: str  # its import package, under src/ or the sdist root
    dependency: str
    candidates: tuple[str, ...]
    others: tuple[str, ...]  # its other runtime dependencies, pinned
    test_deps: tuple[str, ...]
    deselect: tuple[tuple[str, str], ...] = ()  # (pytest -k expression part, why)
    store_extra: tuple[str, ...] = ()  # optional modules' distributions (see DOWNSTREAMS)


DOWNSTREAMS = (
    Downstream(
        "flask", "2.2.5", "flask", "werkzeug",
        ("2.2.2", "2.2.3", "2.3.0", "2.3.8", "3.0.0", "3.0.6", "3.1.3"),
        ("jinja2==3.1.4", "itsdangerous==2.2.0", "click==8.1.7", "markupsafe==2.1.5"),
        ("asgiref==3.6.0", "blinker==1.6.2", "python-dotenv==1.0.0"),
    ),
    Downstream(
        "jinja2", "3.1.4", "jinja2", "markupsafe",
        ("2.1.2", "2.1.3", "2.1.5", "3.0.0", "3.0.2", "3.0.4"),
        (),
        (),
    ),
    Downstream(
        "requests", "2.32.3", "requests", "urllib3",
        ("1.26.18", "1.26.20", "2.0.0", "2.0.7", "2.1.0", "2.2.2", "2.2.3", "2.3.0"),
        ("idna==3.7", "charset-normalizer==3.3.2", "certifi==2024.7.4", "pysocks==1.7.1"),
        ("pytest-httpbin==2.0.0", "httpbin==0.10.2", "pytest-mock==3.14.0",
         "trustme==1.1.0", "flask==2.2.5", "werkzeug==2.2.3"),
        (("TestTimeout", "connects to 10.255.255.1 (a black hole on the internet)"),
         ("test_use_proxy_from_environment", "resolves a real host through a proxy"),
         ("test_lowlevel and test_https_proxy", "connects to httpbin.org"),
         ("test_connection_error_invalid_domain", "asks a real DNS resolver"),
         ("test_connection_error_invalid_port", "connects to a real host"),
         ("test_LocationParseError", "asks a real DNS resolver"),
         ("test_errors", "asks a real DNS resolver"),
         ("test_DIGESTAUTH_WRONG_HTTP_401_GET", "times out without a network"),
         ("test_proxy_error", "connects to a real host"),
         ("test_different_connection_pool_for_mtls_settings",
          "its bundled client certificate is refused by the local TLS server on this machine's "
          "clock: fails on urllib3 1.26.18 and 2.2.3 alike")),
        # requests imports these only under guards siglink's recorder does not recognize
        # (``try: import OpenSSL ... else: import cryptography``; ``if has_simplejson: from
        # simplejson import ...``): without them in the store every candidate is refused.
        # (cffi and pycparser: cryptography's own requirements).
        ("simplejson==3.19.3", "pyopenssl==24.2.1", "cryptography==43.0.1", "cffi==1.17.1",
         "pycparser==2.22"),
    ),
)


def _extract_sdist(sdist: Path, dest: Path) -> Path:
    with tarfile.open(sdist) as tar:
        tar.extractall(dest, filter="data")
    (root,) = [p for p in dest.iterdir() if p.is_dir()]
    return root


def _venv(where: Path, ds: Downstream) -> Path:
    if where.exists():
        shutil.rmtree(where)
    subprocess.run([base_python(), "-m", "venv", str(where)], check=True)
    python = where / "bin" / "python"
    _pip(python, [f"{ds.name}=={ds.version}", *ds.others], no_deps=True)
    _pip(python, [*TEST_RUNNER, *ds.test_deps])
    return python


def _pip(python: Path, specs: Sequence[str], *, no_deps: bool = False) -> None:
    if not specs:
        return
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--only-binary", ":all:",
           *(["--no-deps", "--force-reinstall"] if no_deps else []), *specs]
    result = subprocess.run(cmd, capture_output=True, text=True, env=_pip_env(), check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(specs)} failed: {result.stderr[-600:]}")


_SUMMARY = re.compile(r"^=* ?(\d+ (?:passed|failed|errors?|skipped|deselected).*?) in [\d.]+s",
                      re.MULTILINE)


def _suite(python: Path, tests: Path, ds: Downstream, venv: Path, kind: str
           ) -> tuple[bool, str, list[str]]:
    """(passed?, pytest's summary line, the first failing tests)."""
    args = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE",
            f"--timeout={TEST_TIMEOUT}", "tests"]
    if ds.deselect:
        args += ["-k", " and ".join(f"not ({expr})" for expr, _ in ds.deselect)]
    argv = sandboxed(["env", "PYTHONDONTWRITEBYTECODE=1", *args],
                     [Path(sys.base_prefix), venv], kind, writable=[tests])
    result = subprocess.run(argv, cwd=tests, capture_output=True, text=True,
                            timeout=SUITE_TIMEOUT, check=False)
    found = _SUMMARY.findall(result.stdout)
    tail = (result.stdout + result.stderr).strip().splitlines()
    summary = found[-1] if found else (tail[-1][:200] if tail else f"exit {result.returncode}")
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in result.stdout.splitlines()
              if line.startswith(("FAILED ", "ERROR "))]
    return result.returncode == 0, summary, failed[:5]


class _Only:
    """The store seen with one distribution narrowed to one version."""

    def __init__(self, source: Any, name: str, version: str) -> None:
        self.source, self.name, self.version = source, name, version

    def versions(self, name: str) -> Any:
        found = self.source.versions(name)
        if name != self.name:
            return found
        return [v for v in found if v.version == self.version]

    def view(self, name: str, version: str) -> Any:
        return self.source.view(name, version)

    def providers(self, module: str) -> list[str]:
        return list(self.source.providers(module))


def _siglink(ds: Downstream, sdist_root: Path, cache: Path, work: Path
             ) -> dict[str, Any]:
    """siglink's plan for the downstream's own source, built by default (against the newest
    version serving every use) and against the oldest candidate."""
    from siglink.store import Store

    store = Store(work / "store")
    wheels = [str(download(f"{ds.dependency}=={v}", cache)) for v in ds.candidates]
    wheels += [str(download(spec, cache)) for spec in (*ds.others, *ds.store_extra)]
    store.install(wheels)
    app = work / "app"
    source = sdist_root / "src" / ds.package
    if not source.is_dir():
        source = sdist_root / ds.package
    shutil.copytree(source, app / ds.package)
    (app / "__main__.py").write_text(f"import {ds.package}\n", encoding="utf-8")
    for name in CONFIG_FILES:  # its declared dependencies and warning policy, as build reads
        if (sdist_root / name).is_file():
            shutil.copy(sdist_root / name, app / name)
    out = {}
    for variant, against in (("default", None), ("oldest", {ds.dependency: ds.candidates[0]})):
        out[variant] = _plan(ds, store, app, work, against)
    store.close()
    return out


def _plan(ds: Downstream, store: Any, app: Path, work: Path,
          against: dict[str, str] | None) -> dict[str, Any]:
    """Build the consumer (against siglink's default choice, or ``against``), plan it against
    the whole store, and against each candidate alone."""
    from siglink.errors import LinkError
    from siglink.link.build import build_app
    from siglink.link.plan import compute
    from siglink.link.resolve import StoreSource

    built = build_app(store, str(app), against=against, write=False, register=False,
                      misfits="record")
    manifest = built.manifest
    path = str(work / "app.siglink.json")
    try:
        plan = compute(store, manifest, manifest_path=path)
        pick: str | None = plan.versions.get(ds.dependency)
        pick_note = ""
    except LinkError as e:
        pick, pick_note = None, e.message.splitlines()[0]
    verdicts: dict[str, dict[str, Any]] = {}
    for candidate in ds.candidates:
        narrowed = _Only(StoreSource(store), ds.dependency, candidate)
        try:
            chosen = compute(store, manifest, manifest_path=path, source=narrowed,
                             verify=False)
            lib = chosen.links[ds.dependency]
            verdicts[candidate] = {"accepted": True, "status": lib.status, "rules": [],
                                   "why": ""}
        except LinkError as e:
            text = e.message
            rules = sorted(set(re.findall(r"\b(P\d+|R6)\b", text)))
            lines = [ln.strip() for ln in text.splitlines() if re.search(r"\b(P\d+|R6)\b", ln)]
            verdicts[candidate] = {"accepted": False, "status": "refused", "rules": rules,
                                   "why": "; ".join(lines[:3])[:400] or text.splitlines()[0]}
    imports = manifest.imports.get(ds.dependency, ())
    return {"built_against": built.against.get(ds.dependency), "pick": pick,
            "warnings_error": manifest.warnings_error,
            "pick_note": pick_note, "verdicts": verdicts, "imports": len(imports),
            "warnings": list(built.warnings)[:10]}


def _earlier_suites(ds: Downstream, cache: Path) -> dict[str, tuple[bool, str, list[str]]]:
    """The suite outcomes of the last run of ``ds`` (``--reuse-suites``), when it covered every
    candidate: the suites do not depend on siglink, only the plans do."""
    path = cache / "downstream-last" / f"{ds.name}.json"
    try:
        rows = next(iter(json.loads(path.read_text(encoding="utf-8"))["variants"].values()))[
            "rows"]
    except (OSError, ValueError, KeyError, StopIteration):
        return {}
    found = {r["candidate"]: (r["suite_passes"], r["summary"], r["failing"]) for r in rows}
    return found if set(found) == set(ds.candidates) else {}


def run_one(ds: Downstream, cache: Path, kind: str, *, reuse: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    sdist = download(f"{ds.name}=={ds.version}", cache, kind="sdist")
    with tempfile.TemporaryDirectory(prefix=f"siglink-downstream-{ds.name}-") as tmp:
        work = Path(tmp)
        root = _extract_sdist(sdist, work / "sdist")
        siglink = _siglink(ds, root, cache, work)
        suites = _earlier_suites(ds, cache) if reuse else {}
        if not suites:
            venv = cache / "downstream-venvs" / ds.name
            python = _venv(venv, ds)
            for candidate in ds.candidates:
                _pip(python, [f"{ds.dependency}=={candidate}"], no_deps=True)
                suites[candidate] = _suite(python, root, ds, venv, kind)
    passing = {c for c, (passed, _, _) in suites.items() if passed}
    variants = {}
    for variant, plan in siglink.items():
        rows = []
        for candidate in ds.candidates:
            passed, summary, failed = suites[candidate]
            verdict = plan["verdicts"][candidate]
            rows.append({"candidate": candidate, "suite_passes": passed, "summary": summary,
                         "failing": failed, "siglink_accepts": verdict["accepted"],
                         "siglink_status": verdict["status"], "rules": verdict["rules"],
                         "why": verdict["why"], "agree": passed == verdict["accepted"]})
        pick = plan["pick"]
        variants[variant] = {
            "built_against": plan["built_against"], "imports_recorded": plan["imports"],
            "warnings_error": plan["warnings_error"],
            "pick": pick, "pick_note": plan["pick_note"],
            "pick_passes": pick in passing if pick else None,
            "refused_but_passing": [r["candidate"] for r in rows
                                    if r["suite_passes"] and not r["siglink_accepts"]],
            "accepted_but_failing": [r["candidate"] for r in rows
                                     if not r["suite_passes"] and r["siglink_accepts"]],
            "rows": rows, "build_warnings": plan["warnings"]}
    return {"downstream": f"{ds.name}=={ds.version}", "dependency": ds.dependency,
            "deselected": [{"tests": e, "why": w} for e, w in ds.deselect],
            "store_extra": list(ds.store_extra), "variants": variants,
            "seconds": round(time.monotonic() - started, 1)}


_VARIANTS = {"default": "built by default (siglink's own choice of version)",
             "oldest": "built against the oldest candidate"}


def _text(report: dict[str, Any]) -> str:
    lines = [f"siglink downstream suites ({report['date']}, siglink {report['siglink_commit']}, "
             f"sandbox: {report['sandbox']}, {report['seconds']} s)"]
    for d in report["downstreams"]:
        if "error" in d:
            lines.append(f"\n{d['downstream']}: FAILED: {d['error']}")
            continue
        lines.append(f"\n{d['downstream']}'s suite against {d['dependency']} ({d['seconds']} s)")
        if d["store_extra"]:
            lines.append(f"  also in the store: {', '.join(d['store_extra'])}")
        for variant, v in d["variants"].items():
            verdict = ("passes" if v["pick_passes"] else "FAILS") if v["pick"] else "-"
            lines.append(f"  {_VARIANTS[variant]}: against {v['built_against']}, "
                         f"{v['imports_recorded']} imports recorded")
            if v.get("warnings_error"):
                lines.append(f"    deprecation warnings are errors ({v['warnings_error']})")
            if v["pick"]:
                lines.append(f"    siglink picks {v['pick']}; the suite {verdict} on it")
            else:
                lines.append("    siglink links no candidate (every version refused)")
            lines.append(f"    refused although the suite passes: "
                         f"{', '.join(v['refused_but_passing']) or 'none'}")
            lines.append(f"    accepted although the suite fails: "
                         f"{', '.join(v['accepted_but_failing']) or 'none'}")
            for r in v["rows"]:
                siglink = ("accepts" if r["siglink_accepts"]
                           else f"refuses ({','.join(r['rules'])})")
                passes = "passes" if r["suite_passes"] else "FAILS"
                lines.append(f"    {r['candidate']:9} suite {passes:6} {r['summary'][:48]:48} "
                             f"siglink {siglink:26} {'agree' if r['agree'] else 'DISAGREE'}")
                if not r["agree"]:
                    if r["failing"]:
                        lines.append(f"        failing: {', '.join(r['failing'][:3])}")
                    if r["why"]:
                        lines.append(f"        siglink: {r['why'][:300]}")
        for e in d["deselected"]:
            lines.append(f"  deselected: {e['tests']} ({e['why']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from run import _commit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--render", type=Path, default=None, metavar="JSON")
    parser.add_argument("--reuse-suites", action="store_true",
                        help="take the suites' outcomes from the last run (only siglink's "
                        "plans are computed again)")
    args = parser.parse_args(argv)
    if args.render is not None:
        print(_text(json.loads(args.render.read_text(encoding="utf-8"))))
        return 0
    started = time.monotonic()
    kind = sandbox_kind()
    out = []
    for ds in DOWNSTREAMS:
        if args.only and ds.name not in args.only:
            continue
        try:
            result = run_one(ds, args.cache, kind, reuse=args.reuse_suites)
        except Exception as e:  # one downstream's failure is reported, the others still run
            result = {"downstream": f"{ds.name}=={ds.version}",
                      "error": f"{type(e).__name__}: {e}"}
        out.append(result)
        # Each downstream's result as soon as it is known: a long run interrupted keeps them.
        (args.cache / "downstream-last").mkdir(parents=True, exist_ok=True)
        (args.cache / "downstream-last" / f"{ds.name}.json").write_text(
            json.dumps(result, indent=1), encoding="utf-8")
    report = {"siglink_commit": _commit(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sandbox": kind,
              "seconds": round(time.monotonic() - started, 1), "downstreams": out}
    print(json.dumps(report, indent=1) if args.json else _text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
