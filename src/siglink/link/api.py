"""Driving the linker from code: what ``siglink plan`` and ``siglink run`` do, as functions.

A host program (a deployment tool, a supervisor) links an application and runs it without the
command line::

    import siglink

    app = siglink.Application.resolve("tools/report.py")
    plan = siglink.plan(app, store="/var/lib/siglink", on_warning=log.warning)
    print(plan.versions)                        # {'textkit': '1.1.0'}
    siglink.run(app, ["--month", "5"], store="/var/lib/siglink")   # replaces the process

Both compute the plan the same way (:func:`siglink.link.run.prepare`, the one computation of a
plan): build the application's manifest when it is missing or older than its sources, link it
against the store, record it in the store's registrations and cache the plan that the next
``siglink run`` starts warm from. :class:`~siglink.store.Store` gives the store's contents
(``versions``, ``install``, ``yank``, ``apps``).

>>> import siglink
>>> siglink.plan is plan and siglink.Application.__name__
'Application'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from siglink.link.app import Application, PlanRequest

if TYPE_CHECKING:
    from siglink.link.plan import LinkPlan

__all__ = ["plan", "run"]


def __dir__() -> list[str]:
    return list(__all__)


def _ignore(message: str) -> None:
    """Warnings nobody asked for."""


def _app(app: Application | str | os.PathLike[str]) -> Application:
    return app if isinstance(app, Application) else Application.resolve(os.fspath(app))


def plan(
    app: Application | str | os.PathLike[str],
    request: PlanRequest | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    build: bool = True,
    on_warning: Callable[[str], None] | None = None,
) -> LinkPlan:
    """Link ``app`` (an :class:`Application`, or a script or directory path) against ``store``
    (default: ``$SIGLINK_STORE``, else the user's store) as ``request`` asks, cache the plan
    for ``siglink run`` and return it. With ``build``, a missing or outdated manifest is built
    first (as ``siglink run`` does; ``siglink plan`` does not).

    :raises siglink.errors.LinkError: no compatible set of versions (its ``report`` explains).
    :raises siglink.errors.BadInputError: a missing application or manifest, a bad policy.
    :raises siglink.errors.StoreError: a store or plan directory that cannot be trusted.
    """
    from siglink.link.run import prepare

    return prepare(_app(app), request, store=os.fspath(store) if store else None, build=build,
                   note=on_warning or _ignore).plan


def run(
    app: Application | str | os.PathLike[str],
    args: Sequence[str] = (),
    request: PlanRequest | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> NoReturn:
    """Link ``app`` as :func:`plan` does and replace this process with it, started as
    ``python APP ARGS`` would be (exactly what ``siglink run`` does).

    :raises: as :func:`plan`, before the process is replaced.
    """
    from siglink.link.run import run_app

    run_app(_app(app), args, request, store=os.fspath(store) if store else None,
            note=on_warning or _ignore)
