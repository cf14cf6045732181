"""How fast is ``siglink build``? A generated 2,000-line application using 5 libraries.

Each library (a real wheel installed with ``Store.install``) has 10 classes of 20 annotated
methods, some returning another class of the library. The application instantiates the
classes, calls methods on the instances and on what they return, iterates them, tests
membership, enters them with ``with``, subclasses them and passes typed arguments: every kind
of use member-level usage records.

Printed: the build time (analysis, version choice, the manifest written; no linking), the
time to merely parse the same sources with :func:`ast.parse` measured in the same run, and the
ratio of the two, which compares across machines and across siglink versions (run this file
with another checkout on ``PYTHONPATH`` to compare).

Run: ``python3 benchmarks/bench_build.py``
"""

from __future__ import annotations

import ast
import statistics
import sys
import tempfile
import time
from pathlib import Path

from siglink.demo.wheels import make_wheel
from siglink.link.build import build_app
from siglink.store import Store

LIBS = 5
CLASSES = 10
METHODS = 20
LINES = 2000
ROUNDS = 5


def _library(n: int) -> str:
    out = ["from __future__ import annotations", "from typing import Iterator", ""]
    for c in range(CLASSES):
        other = f"K{(c + 1) % CLASSES}"
        out += [f"class K{c}:", "    def __init__(self, size: int = 0) -> None:",
                "        self.size = size", "",
                f"    def __enter__(self) -> K{c}:", "        return self", "",
                "    def __exit__(self, *args: object) -> None:", "        pass", "",
                "    def __contains__(self, item: int) -> bool:", "        return True", "",
                "    def __iter__(self) -> Iterator[int]:", "        return iter(())", ""]
        for m in range(METHODS):
            returns = other if m % 4 == 0 else "int"
            body = f"{other}()" if m % 4 == 0 else "x"
            out += [f"    def m{m}(self, x: int, *, flag: bool = False) -> {returns}:",
                    f"        return {body}", ""]
    return "\n".join(out) + "\n"


def _application() -> str:
    out = [f"import lib{n}" for n in range(LIBS)] + [""]
    k = 0
    while len(out) < LINES:
        n, c, m = k % LIBS, k % CLASSES, k % METHODS
        out += [
            f"def use{k}(arg: lib{n}.K{c}) -> int:",
            f"    obj = lib{n}.K{c}({k})",
            f"    total = obj.m{m}({k}, flag=True)",
            f"    other = obj.m{(m // 4) * 4}(1)",
            f"    total += other.m{(m + 1) % METHODS}(2)",
            f"    with lib{n}.K{c}() as ctx:",
            f"        total += ctx.m{(m + 2) % METHODS}(3)",
            "    for item in obj:",
            "        total += item",
            f"    if {k} in arg:",
            f"        total += arg.m{(m + 3) % METHODS}(4)",
            "    return total",
            "",
            f"class Sub{k}(lib{n}.K{c}):",
            f"    def m{(m + 5) % METHODS}(self, x: int, *, flag: bool = False) -> int:",
            f"        return super().m{(m + 6) % METHODS}(x) + self.size",
            "",
        ]
        k += 1
    return "\n".join(out) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store(root / "store")
        wheels = [make_wheel(root / "wheels", f"lib{n}", "1.0",
                             {f"lib{n}/__init__.py": _library(n)}) for n in range(LIBS)]
        store.install([str(w) for w in wheels])
        app = root / "app" / "app.py"
        app.parent.mkdir()
        source = _application()
        app.write_text(source, encoding="utf-8")
        lines = source.count("\n")
        build_times, parse_times = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            ast.parse(source)
            parse_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            build_app(store, str(app), register=False)
            build_times.append(time.perf_counter() - start)
        build, parse = statistics.median(build_times), statistics.median(parse_times)
        print(f"application: {lines} lines, {LIBS} libraries "
              f"({CLASSES} classes x {METHODS} methods each)")
        print(f"build (median of {ROUNDS}): {build * 1000:.1f} ms")
        print(f"ast.parse of the same source: {parse * 1000:.1f} ms")
        print(f"build / parse: {build / parse:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
