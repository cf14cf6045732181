"""Console-script entry point, kept free of heavy imports.

``siglink run`` on a warm plan goes straight to the standard-library-only bootstrap in
:mod:`siglink.link.warm`, which execs nothing and never imports argparse, rich, sqlite or the
resolver; everything else goes to the full CLI in :mod:`siglink.cli.main`.
"""

import sys


def entry() -> None:
    """Run ``siglink`` with ``sys.argv``; never returns."""
    argv = sys.argv[1:]
    if "run" in argv[:3]:
        from siglink.link.warm import warm_run

        warm_run(argv)  # returns only when no warm plan is usable
    from siglink.cli.main import main

    sys.exit(main(argv))
