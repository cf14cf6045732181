"""Bundles: an application and exactly the versions siglink linked for it, in one zipapp.

``siglink bundle`` writes one (:func:`bundle_app`), ``siglink inspect`` reads one without
running it (:func:`open_bundle`), ``siglink relink`` rebuilds one with the newest compatible
stored versions (:func:`relink_bundle`).

>>> sorted(__all__)
['Bundle', 'BundleResult', 'RelinkResult', 'bundle_app', 'open_bundle', 'relink_bundle']
"""

from __future__ import annotations

from siglink.bundle.build import BundleResult, bundle_app
from siglink.bundle.reader import Bundle, open_bundle
from siglink.bundle.relink import RelinkResult, relink_bundle

__all__ = ["Bundle", "BundleResult", "RelinkResult", "bundle_app", "open_bundle",
           "relink_bundle"]


def __dir__() -> list[str]:
    return list(__all__)
