"""siglink's errors: one base class, one subclass per failure family.

Every error carries its exit code, so the CLI maps failures to the documented codes in one place:

====  =====================================================================
code  meaning
====  =====================================================================
0     success
1     the check ran and found a problem (``diff`` found an incompatible change)
2     bad input: a missing, corrupt or unreadable file, manifest, wheel or argument
3     store failure: a conflict, a corrupt index, a refused removal
4     fetch failure: the package index could not provide a requirement
70    internal error: a defect in siglink itself, never an error of the input (the CLI's
      last resort: one line naming the exception and asking for a report)
75    the store is busy: another process held its lock or its index longer than
      ``$SIGLINK_LOCK_TIMEOUT``; nothing was changed, try again (``EX_TEMPFAIL``)
127   link refused: no compatible version (as the system's dynamic loader)
====  =====================================================================

>>> str(BadInputError("wheel.whl: not a zip file", path="wheel.whl"))
'wheel.whl: not a zip file'
"""

from __future__ import annotations

__all__ = [
    "BadInputError",
    "BuildError",
    "ExtractionError",
    "FetchError",
    "LinkError",
    "ManifestError",
    "NativeError",
    "PluginCallError",
    "SiglinkError",
    "SignatureSyntaxError",
    "StoreBusyError",
    "StoreError",
]


def __dir__() -> list[str]:
    return list(__all__)


class SiglinkError(Exception):
    """Base of every error siglink raises on purpose."""

    exit_code: int = 2
    multiline: bool = False
    """Whether the message spans lines by design (a refusal listing its reasons, a caret under
    a span): then whoever builds it makes each quoted path, name or text inert
    (:func:`siglink._text.inert`) and only its own newlines are left. Any other message is
    shown on one line, every control character of whatever it quotes escaped."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (isolation, exec'd planners); keep them picklable.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[SiglinkError], state: dict[str, object]) -> SiglinkError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class BadInputError(SiglinkError, ValueError):
    """Input that cannot be used: a missing path, a corrupt file, a malformed argument.

    >>> from siglink.contracts.compat import check
    >>> check("(a)", "(a)", policy="loose")
    Traceback (most recent call last):
    siglink.errors.BadInputError: unknown policy 'loose': expected one of signature, semver, strict
    """

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class SignatureSyntaxError(BadInputError):
    """Signature text that does not parse; the message shows a caret under the bad span.

    >>> from siglink.contracts.signature import Signature
    >>> try:
    ...     Signature.parse("(a: int, b c)")
    ... except SignatureSyntaxError as e:
    ...     print(e)
    ...     print((e.text, e.position, e.reason))
    invalid signature: invalid syntax
        (a: int, b c)
                   ^
    ('(a: int, b c)', 11, 'invalid syntax')
    """

    multiline = True

    def __init__(self, text: str, position: int, reason: str) -> None:
        from siglink._inert import inert

        caret = " " * len(inert(text[:position])) + "^"  # under the span as it is shown
        super().__init__(f"invalid signature: {inert(reason)}\n    {inert(text)}\n    {caret}")
        self.text = text
        self.position = position
        self.reason = reason


class ManifestError(BadInputError):
    """A manifest that is corrupt, incomplete or of a newer format than this siglink reads.

    >>> from siglink.contracts.manifest import Manifest
    >>> for text in ('{"format": 9}', '{"format": 1, "unit": {"name": "x"}}'):
    ...     try:
    ...         Manifest.loads(text, source="m.json")
    ...     except ManifestError as e:
    ...         print(e)
    m.json: manifest format 9 is newer than this siglink reads (format 1); upgrade siglink
    m.json: corrupt manifest: $.unit: missing key 'version'
    """


class ExtractionError(BadInputError):
    """A library whose exports cannot be read at all (not a wheel, not a package, ...).

    >>> from siglink.python.exports import extract
    >>> extract("dist/textkit-9.9-py3-none-any.whl")
    Traceback (most recent call last):
    siglink.errors.ExtractionError: dist/textkit-9.9-py3-none-any.whl: no such file or directory
    """


class StoreError(SiglinkError):
    """The store refused an operation or is damaged."""

    exit_code = 3


class StoreBusyError(StoreError):
    """Another process held the store's lock, or a lock on its index, for longer than
    ``$SIGLINK_LOCK_TIMEOUT`` (exit 75, ``EX_TEMPFAIL``: nothing was changed, try again);
    ``holder`` is its PID (0 when it cannot be found). Busy is not damaged: the index is
    intact."""

    exit_code = 75

    def __init__(self, message: str, holder: int = 0) -> None:
        super().__init__(message)
        self.holder = holder


class FetchError(SiglinkError):
    """A requirement could not be fetched from the package index."""

    exit_code = 4


class BuildError(SiglinkError):
    """An application calls a library in a way the version it is built against does not
    accept; ``misfits`` holds one line per call (``app.py:3: textkit.wrap(_, _): P6 ...``)."""

    exit_code = 1
    multiline = True

    def __init__(self, message: str, *, misfits: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.misfits = misfits


class LinkError(SiglinkError):
    """No compatible set of versions exists; the message lists every unsatisfied import."""

    exit_code = 127
    multiline = True

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class NativeError(SiglinkError):
    """A shared library that cannot be read, parsed or bound (wrong architecture, bad header)."""

    exit_code = 2


class PluginCallError(SiglinkError):
    """A plugin's implementation raised while the host called it (the host asked for the
    error to propagate); ``plugin`` names it, ``error`` is what it raised (also the cause)."""

    exit_code = 1

    def __init__(self, message: str, *, plugin: str = "", point: str = "",
                 error: BaseException | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.point = point
        self.error = error
