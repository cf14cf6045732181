"""Imports a library can do without: the ``else:`` of a guarded ``try``, and code under a flag
that records whether an optional import succeeded (``if has_simplejson:``)."""

from __future__ import annotations

import textwrap
import zipfile
from typing import Any

import pytest

from siglink.python.usage import Usage, analyze_source


def optional(source: str) -> dict[str, bool]:
    usage = analyze_source(textwrap.dedent(source), "lib.py")
    return {m: m in usage.optional_modules for m in usage.modules}


def test_the_else_of_a_guarded_try_is_optional() -> None:
    assert optional("""
        try:
            from urllib3.contrib import pyopenssl
        except ImportError:
            OpenSSL = None
        else:
            import OpenSSL
        """) == {"urllib3.contrib": True, "OpenSSL": True}


def test_the_else_of_an_unguarded_try_stays_required() -> None:
    assert optional("""
        try:
            x = 1
        except KeyError:
            pass
        else:
            import m
        finally:
            import n
        """) == {"m": False, "n": False}


FLAG = """
    has_fast = False
    try:
        import fast as impl
        has_fast = True
    except ImportError:
        import json as impl

    if has_fast:
        from fast import Error
    else:
        from json import JSONDecodeError as Error
    if not has_fast:
        import slowpath
    else:
        from fast import extra
    """


def test_an_import_flag_makes_its_branch_optional() -> None:
    found = optional(FLAG)
    assert (found["fast"], found["slowpath"]) == (True, False)
    usage = analyze_source(textwrap.dedent(FLAG), "lib.py")
    assert usage.uses["fast.Error"].optional and usage.uses["fast.extra"].optional


@pytest.mark.parametrize("other", [
    "has_fast = compute()\n",  # set from something else too
    "def f():\n    global has_fast\n    has_fast = True\n",  # set True outside the try
    "has_fast = 1\n",
])
def test_a_flag_set_elsewhere_is_not_an_import_flag(other: str) -> None:
    assert optional(FLAG.rstrip(" ") + textwrap.indent(other, "    "))["fast"] is False


def test_a_flag_set_true_in_the_handler_is_not_an_import_flag() -> None:
    assert optional("""
        ok = False
        try:
            import m
        except ImportError:
            ok = True
        if ok:
            import n
        """)["n"] is False


def test_requests_optional_imports(pypi: Any) -> None:
    """requests 2.32.3 imports pyOpenSSL and cryptography in a guarded try's ``else:``
    (help.py) and simplejson under ``if has_simplejson:`` (compat.py): all optional."""
    usage = Usage()
    with zipfile.ZipFile(pypi.fetch("requests==2.32.3")) as wheel:
        for name in wheel.namelist():
            if name.endswith(".py"):
                usage.merge(analyze_source(wheel.read(name), name))
    for module in ("OpenSSL", "cryptography", "simplejson", "chardet", "urllib3.contrib"):
        assert module in usage.optional_modules, module
    for path in ("simplejson.JSONDecodeError", "OpenSSL.__version__",
                 "cryptography.__version__"):
        assert usage.uses[path].optional, path
    assert {"urllib3", "idna", "certifi"} <= set(usage.modules) - usage.optional_modules
