"""Console-script entry point, kept free of heavy imports.

``siglink run`` on a warm plan goes straight to the standard-library-only bootstrap in
:mod:`siglink.link.warm`, which execs nothing and never imports argparse, rich, sqlite or the
resolver; everything else goes to the full CLI in :mod:`siglink.cli.main`. Ctrl-C before the
application starts (while siglink imports itself, for one) exits 130 with one line, never a
traceback.
"""

import sys


def entry() -> None:
    """Run ``siglink`` with ``sys.argv``; never returns."""
    argv = sys.argv[1:]
    try:
        # An empty argument may be an empty --store: the full CLI refuses it with a message,
        # where the bootstrap would take the default store.
        if "run" in argv[:4] and "" not in argv and "--store=" not in argv:
            from siglink.link.warm import warm_run

            warm_run(argv)  # returns only when no warm plan is usable
        from siglink.cli.main import main

        code = main(argv)
    except KeyboardInterrupt:
        try:
            sys.stderr.write("siglink: interrupted\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        code = 130
    sys.exit(code)
