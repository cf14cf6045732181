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

>>> limits(["rich>=13,<13.8", "Jinja2<3.2; python_version < '3'"])
{'rich': (<SpecifierSet('<13.8,>=13')>, 'rich<13.8,>=13')}
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from siglink.errors import BadInputError

__all__ = ["declared", "limits"]


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


def _pyproject(path: str) -> list[str]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
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
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
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
