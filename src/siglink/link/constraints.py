"""The version constraints an application declares, honoured on top of the signature checks.

Where they come from, beside the application (its directory, or the directory of a script):

- ``pyproject.toml``: ``[project] dependencies`` (PEP 508) and ``[tool.siglink] constraints``
  (PEP 508 requirements, e.g. ``["rich<13.8"]``);
- ``requirements.txt``: one requirement per line, as pip writes them (comments, blank lines,
  ``\\`` continuations; option lines such as ``-r``, ``--index-url`` and ``--hash=`` are not
  constraints and are passed over).

``siglink build`` records them in the application's manifest (``requires``); the linker
offers only versions they admit (a version they exclude is refused with the constraint as the
reason, so ``plan`` shows it when it decides). Markers are evaluated for the running
interpreter; a constraint whose marker is false does not apply.

The application's warning policy (:func:`warnings_policy`) is declared beside it too: whether a
``DeprecationWarning`` is an error where it runs. ``[tool.siglink] warnings`` (``"error"`` or
``"default"``) decides; without it, the project's own pytest configuration does (the first of
``pytest.ini`` ``[pytest]``, ``pyproject.toml`` ``[tool.pytest.ini_options]``, ``tox.ini``
``[pytest]``, ``setup.cfg`` ``[tool:pytest]``, as pytest picks it): its ``filterwarnings``
entries and ``-W`` options in ``addopts``, the last entry matching every ``DeprecationWarning``
deciding, as in :mod:`warnings`. Under it a use the candidate serves with a deprecation
warning fails at run time, so the linker refuses it.

>>> limits(["rich>=13,<13.8", "Jinja2<3.2; python_version < '3'"])
{'rich': (<SpecifierSet('<13.8,>=13')>, 'rich<13.8,>=13')}
"""

from __future__ import annotations

import configparser
import os
import shlex
import tomllib
from collections.abc import Iterable, Sequence
from typing import Any

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from siglink._layout import read_regular
from siglink._text import decode
from siglink.errors import BadInputError

__all__ = ["CONFIG_LIMIT", "declared", "limits", "read_config", "warnings_policy"]


def __dir__() -> list[str]:
    return list(__all__)


def _requirement(text: str, where: str) -> str:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as e:
        reason = str(e).splitlines()[0] if str(e) else "invalid"
        raise BadInputError(f"{where}: {text!r} is not a requirement ({reason})") from e
    if requirement.url:
        raise BadInputError(f"{where}: {text!r}: a URL is not a version constraint")
    return str(requirement)


CONFIG_LIMIT = 16 << 20
"""The largest configuration file beside an application read (16 MiB: ``pyproject.toml``,
``requirements.txt``, ``pytest.ini``)."""


def read_config(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a configuration file beside an application: a regular file of at most
    :data:`CONFIG_LIMIT` bytes, read without blocking (a FIFO in its place is refused, never
    waited on). :raises OSError: as :func:`siglink._layout.read_regular`."""
    return read_regular(path, CONFIG_LIMIT, whole=True)


def _pyproject(path: str) -> list[str]:
    try:
        data = tomllib.loads(decode(read_config(path), path))
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise BadInputError(f"{path}: cannot be read: {e}", path=path) from e
    out = []
    for key, items in (("[project] dependencies", data.get("project", {}).get("dependencies")),
                       ("[tool.siglink] constraints",
                        data.get("tool", {}).get("siglink", {}).get("constraints"))):
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise BadInputError(f"{path}: {key} is not a list of strings", path=path)
        out += [_requirement(i, f"{path}: {key}") for i in items]
    return out


def _requirements_txt(path: str) -> list[str]:
    try:
        lines = read_config(path).decode("utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise BadInputError(f"{path}: cannot be read: {e}", path=path) from e
    out = []
    pending = ""
    start = 0
    for number, raw in enumerate(lines, 1):
        line = raw if not pending else pending + " " + raw.strip()
        start = start if pending else number
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1]
            continue
        pending = ""
        text = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not text or text.startswith("-"):
            continue
        text = text.split(" --", 1)[0].strip()  # per-requirement options: --hash=...
        out.append(_requirement(text, f"{path}:{start}"))
    return out


def declared(folder: str | os.PathLike[str]) -> tuple[str, ...]:
    """Every constraint an application in ``folder`` declares, normalized, in order.

    :raises BadInputError: a file that cannot be read, or a line that is not a requirement
        (naming the file and line).
    """
    folder = os.fspath(folder)
    found = _pyproject(os.path.join(folder, "pyproject.toml"))
    found += _requirements_txt(os.path.join(folder, "requirements.txt"))
    return tuple(dict.fromkeys(found))


def limits(requires: Iterable[str]) -> dict[str, tuple[SpecifierSet, str]]:
    """``{name: (specifier, text)}``: the constraints that apply here (markers evaluated),
    merged per name; a text that does not parse (a manifest edited by hand) is passed over."""
    out: dict[str, tuple[SpecifierSet, str]] = {}
    for text in requires:
        try:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
        except (InvalidRequirement, InvalidMarker):
            continue
        if not requirement.specifier:
            continue
        name = str(canonicalize_name(requirement.name))
        merged = out.get(name, (SpecifierSet(), ""))[0] & requirement.specifier
        out[name] = (merged, f"{name}{merged}")
    return out


WARNING_POLICIES = ("error", "default")
"""The values of ``[tool.siglink] warnings``."""

_ACTIONS = ("default", "always", "ignore", "module", "once", "error")
# Categories an entry may name that include DeprecationWarning itself (an entry naming a
# subclass, or PendingDeprecationWarning, does not match a plain DeprecationWarning).
_COVERING = frozenset({"", "Warning", "DeprecationWarning", "builtins.Warning",
                       "builtins.DeprecationWarning"})


def _decisive(entries: Sequence[str]) -> int | None:
    """The index of the entry that makes every ``DeprecationWarning`` an error, or None: entries in
    :mod:`warnings` option syntax (``action:message:category:module:lineno``), later ones
    first, as :func:`warnings.filterwarnings` inserts them. An entry limited by message or
    module that does not make the warning an error leaves it undecided (the deprecation's
    message and caller are not known here), so no later entry can make every one an error."""
    for index in range(len(entries) - 1, -1, -1):
        parts = [p.strip() for p in entries[index].split(":", 4)]
        parts += [""] * (5 - len(parts))
        action_text, message, category, module, _ = parts
        action = next((a for a in _ACTIONS if a.startswith(action_text)), None)
        if action is None or category not in _COVERING:
            continue  # pytest would reject it, or it is about other warnings
        conditional = bool(message or module)
        if action == "error":
            if not conditional:
                return index
            continue
        return None
    return None


def _ini_lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines()
            if line.strip() and not line.strip().startswith(("#", ";"))]


def _addopts_w(addopts: Sequence[str]) -> list[str]:
    """The ``-W`` entries of pytest's ``addopts`` (applied after ``filterwarnings``)."""
    out: list[str] = []
    words = [w for text in addopts for w in shlex.split(text, comments=True)]
    for i, word in enumerate(words):
        if word in ("-W", "--pythonwarnings") and i + 1 < len(words):
            out.append(words[i + 1])
        elif word.startswith("--pythonwarnings="):
            out.append(word.split("=", 1)[1])
        elif word.startswith("-W") and len(word) > 2:
            out.append(word[2:])
    return out


def _pytest_config(folder: str) -> tuple[str, list[str], list[str]] | None:
    """(where, filterwarnings, addopts) of the pytest configuration pytest would use."""
    for name, section in (("pytest.ini", "pytest"), ("pyproject.toml", None),
                          ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        if section is None:
            options = _table(_table(_toml(path), "tool"), "pytest").get("ini_options")
            if not isinstance(options, dict):
                continue
            found = []
            for key in ("filterwarnings", "addopts"):
                value = options.get(key, [])
                items = [value] if isinstance(value, str) else value
                if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                    raise BadInputError(f"{path}: [tool.pytest.ini_options] {key} is not a "
                                        "list of strings", path=path)
                found.append(_ini_lines("\n".join(items)) if key == "filterwarnings"
                             else items)
            return f"{name} [tool.pytest.ini_options]", found[0], found[1]
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read_string(read_config(path).decode("utf-8"), path)
        except (OSError, UnicodeDecodeError, configparser.Error) as e:
            raise BadInputError(f"{path}: cannot be read: {str(e).splitlines()[0]}",
                                path=path) from e
        if name == "pytest.ini" or parser.has_section(section):
            values = dict(parser.items(section)) if parser.has_section(section) else {}
            return (f"{name} [{section}]", _ini_lines(values.get("filterwarnings", "")),
                    [values.get("addopts", "")])
    return None


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _toml(path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_config(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BadInputError(f"{path}: cannot be read: {e}", path=path) from e


def warnings_policy(folder: str | os.PathLike[str]) -> str | None:
    """Where the application in ``folder`` makes every ``DeprecationWarning`` an error
    (``'setup.cfg [tool:pytest] filterwarnings "error"'``), or None when it does not.

    :raises BadInputError: a configuration file that cannot be read, or a
        ``[tool.siglink] warnings`` that is not one of :data:`WARNING_POLICIES`.
    """
    folder = os.fspath(folder)
    pyproject = os.path.join(folder, "pyproject.toml")
    if os.path.isfile(pyproject):
        value = _table(_table(_toml(pyproject), "tool"), "siglink").get("warnings")
        if value is not None:
            if value not in WARNING_POLICIES:
                raise BadInputError(f"{pyproject}: [tool.siglink] warnings: {value!r} is not "
                                    f"one of {', '.join(map(repr, WARNING_POLICIES))}",
                                    path=pyproject)
            return 'pyproject.toml [tool.siglink] warnings = "error"' if value == "error" \
                else None
    config = _pytest_config(folder)
    if config is None:
        return None
    where, entries, addopts = config
    extra = _addopts_w(addopts)
    every = [*entries, *extra]
    index = _decisive(every)
    if index is None:
        return None
    key = "filterwarnings" if index < len(entries) else "addopts -W"
    return f"{where} {key} {every[index]!r}"
