"""Shared fixtures: real artifacts from the package index, cached across runs.

Tests that need the package index are marked ``network``: those that use the ``pypi`` fixture
are marked here, the others (``siglink install NAME==VERSION``) in their modules. When the
index cannot be reached they skip with the reason, instead of failing: a ``network`` test
checks reachability once per session before it starts, and a ``pypi.fetch`` whose artifact is
not cached yet checks it when its download fails (an artifact already in the cache needs no
network, so the test runs). Tests that take more than a few seconds are marked ``slow``
(:data:`SLOW`), so ``pytest -m "not slow"`` is a fast loop.

sdists and projects are built without build isolation (``PIP_NO_BUILD_ISOLATION``), with the
setuptools and wheel of the test environment, so a build needs no index either.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("SIGLINK_TEST_CACHE", Path.home() / ".cache" / "siglink-tests"))

# Measured once with ``pytest --durations=60`` on the shared 2-core development machine:
# tests that took 5 s or more (a node id, or a prefix naming all parameters of a test).
SLOW: tuple[str, ...] = (
    "tests/bundle/test_bundle_realworld.py::"
    "test_werkzeug_app_runs_from_its_bundle_in_a_bare_environment",
    "tests/cli/test_cli_demo.py::test_the_story_goes_as_told",
    "tests/cli/test_cli_main.py::test_plan_with_environment_and_no_store_yet",
    "tests/contracts/test_compat_binding.py::TestBindingAgainstPython::"
    "test_verdict_matches_binding",
    "tests/contracts/test_types_mypy.py::test_is_subtype_agrees_with_mypy",
    "tests/contracts/test_types_property.py::TestTransitivity::test_widening_chains",
    "tests/link/test_link_realworld.py::test_markupsafe_soft_unicode",
    "tests/link/test_link_realworld.py::test_werkzeug_url_quote",
    "tests/link/test_run_children.py::test_children_inherit_the_link",
    "tests/link/test_run_cli.py::test_directory_and_project_applications",
    "tests/link/test_run_cli.py::test_policy_per_application_and_global",
    "tests/link/test_run_cli.py::test_refused_link_exits_127_naming_the_problem",
    "tests/link/test_run_cli.py::test_who_uses_tells_what_each_application_links_now",
    "tests/link/test_run_cli.py::test_yanked_versions_are_never_linked",
    "tests/link/test_run_edge_cases.py::test_an_edited_local_module_is_noticed_even_with_an_old_"
    "mtime",
    "tests/link/test_run_edge_cases.py::test_deleted_apps_are_forgotten",
    "tests/link/test_run_realworld.py::test_markupsafe_and_werkzeug",
    "tests/store/test_store_crash.py::test_sigkill_at_any_moment_of_the_writing",
    "tests/store/test_store_fetch.py::test_project_directory_and_sdist",
    "tests/store/test_store_fetch.py::test_relative_project_directory",
    "tests/store/test_store_fetch.py::test_requirement_fetched_and_built_from_sdist",
)


def fetch(requirement: str, *, kind: str = "wheel") -> Path:
    """Download one real artifact of ``requirement`` (``NAME==VERSION``) from the package index.

    ``kind`` is ``wheel`` (pure-Python or any wheel pip picks for this interpreter) or
    ``sdist``. Artifacts are cached in ``$SIGLINK_TEST_CACHE`` (default
    ``~/.cache/siglink-tests``) so a second run needs no network. When the download fails
    because the index cannot be reached, the test is skipped with that reason.
    """
    name, _, version = requirement.partition("==")
    dest = CACHE / kind / f"{name.lower()}-{version}"
    dest.mkdir(parents=True, exist_ok=True)
    found = [p for p in dest.iterdir() if p.suffix in (".whl", ".gz", ".zip")]
    if found:
        return found[0]
    if _probed.get("index"):  # already found unreachable this session: do not wait again
        pytest.skip(f"{requirement} is not cached and {_probed['index']}")
    binary = ["--only-binary", ":all:"] if kind == "wheel" else ["--no-binary", ":all:"]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--quiet", "--timeout", "30", "--retries", "2", "--dest", str(dest), *binary,
           requirement]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    found = [p for p in dest.iterdir() if p.suffix in (".whl", ".gz", ".zip")]
    if result.returncode != 0 or not found:
        unreachable = index_unreachable()
        if unreachable:
            pytest.skip(f"{requirement} is not cached and {unreachable}")
        raise RuntimeError(f"pip download {requirement} ({kind}) failed:\n{result.stderr}")
    return found[0]


_probed: dict[str, str] = {}
_NETWORK_WORDS = ("Connection", "connect", "resolution", "resolve", "timed out", "unreachable",
                  "SSL", "Proxy", "Max retries")


def index_unreachable() -> str:
    """Why the package index cannot be reached (``""`` when it can); asked once per session.

    The probe is what the tests do: ``pip download`` of one small wheel, bypassing pip's cache,
    with a short timeout and no retries.
    """
    if "index" not in _probed:
        _probed["index"] = _probe()
    return _probed["index"]


def _probe() -> str:
    with tempfile.TemporaryDirectory(prefix="siglink-index-probe-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
               "--disable-pip-version-check", "--quiet", "--only-binary", ":all:",
               "--timeout", "10", "--retries", "0", "--dest", tmp, "six==1.16.0"]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                    timeout=60)
        except subprocess.TimeoutExpired:
            return "the package index did not answer within 60 s"
    if result.returncode == 0:
        return ""
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip()]
    network = [ln for ln in lines if any(word in ln for word in _NETWORK_WORDS)]
    errors = [ln for ln in lines if ln.startswith("ERROR")] or lines or ["pip download failed"]
    return (f"the package index cannot be reached (pip download six==1.16.0: "
            f"{(network or errors)[-1][:300]})")


@pytest.fixture(scope="session")
def pypi() -> type[_Pypi]:
    """``pypi.fetch("markupsafe==2.1.5")`` gives the path of a real artifact."""
    return _Pypi


class _Pypi:
    fetch = staticmethod(fetch)


@pytest.hookimpl(tryfirst=True)  # before -m and -k deselect anything
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses the ``pypi`` fixture ``network``, and :data:`SLOW` ``slow``;
    an entry of :data:`SLOW` that names no test of a collected file is an error (a renamed
    test must not silently join the fast loop)."""
    matched: set[str] = set()
    files = {item.nodeid.split("::", 1)[0] for item in items}
    for item in items:
        if "pypi" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.network)
        for entry in SLOW:
            if item.nodeid == entry or item.nodeid.startswith((entry + "[", entry + "::")):
                item.add_marker(pytest.mark.slow)
                matched.add(entry)
    stale = [e for e in SLOW if e.split("::", 1)[0] in files and e not in matched]
    if stale:
        raise pytest.UsageError("tests/conftest.py SLOW names no test: " + ", ".join(stale))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``network`` test that fetches without the ``pypi`` cache skips when the index is
    unreachable; one that uses ``pypi`` finds out only if an artifact is not cached yet."""
    if item.get_closest_marker("network") is None:
        return
    if "pypi" in getattr(item, "fixturenames", ()):
        return
    unreachable = index_unreachable()
    if unreachable:
        pytest.skip(unreachable)


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever touches the user's real store or colour settings; builds use the test
    environment's setuptools and wheel (pip reads ``PIP_NO_BUILD_ISOLATION=0`` as
    ``--no-build-isolation``)."""
    monkeypatch.setenv("SIGLINK_STORE", str(tmp_path / "default-store"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")


def _readable_site(src: Path) -> str:
    """A world-readable copy of siglink and the distributions it requires (the test
    interpreter's own site-packages may sit in root's private home)."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    target = Path(tempfile.mkdtemp(prefix="siglink-site-", dir="/tmp"))
    shutil.copytree(src, target / "siglink")
    todo, seen = ["siglink"], set()
    while todo:
        name = todo.pop()
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        for req in dist.requires or ():
            parsed = Requirement(req)
            if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
                todo.append(parsed.name)
        if name == "siglink":
            continue
        for file in dist.files or ():
            source = Path(str(file.locate()))
            if source.is_file() and ".." not in file.parts:
                dest = target / file
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, dest)
    for folder in [target, *target.rglob("*")]:
        os.chmod(folder, 0o755 if folder.is_dir() else 0o644)
    return str(target)


@pytest.fixture(scope="session")
def readable_site() -> Iterator[str]:
    """A directory another user can put on ``PYTHONPATH`` to import this siglink (tests that
    run as a real second user)."""
    import siglink

    path = _readable_site(Path(siglink.__file__ or "").resolve().parent)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
