"""How fast is the compatibility checker?

(a) the structural check of a typical four-parameter signature, memo defeated, against
    ``inspect.signature()`` of the same function (target: ratio <= 1.0). "Memo defeated":
    both memos of the checker are cleared before every check, the verdicts per signature pair
    and the subtype decisions per type pair (docs/design.md §3.5); what is computed once per *value*
    (a signature's canonical text, digest and lookup index, as when it is parsed or loaded)
    is not recomputed, as parsing is excluded;
(b) the digest fast path (identical signatures) against the structural path (target: >= 20x);
(c) ``Signature.from_callable`` (reads ``__code__``) against the same signature built through
    ``inspect.signature`` (the fallback path for builtins); both resolve the annotations.

Rounds interleave the measured and the baseline runs; each line prints the median per-round
ratio and its interquartile range. Run: ``python3 benchmarks/bench_check.py``.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable

from siglink.contracts import _typeshed_graph, compat
from siglink.contracts import signature as signature_module
from siglink.contracts.signature import Signature

ROUNDS = 41
INNER = 2000


def typical(a: int, b: str, c: float = 1.0, *, d: bool = False) -> list[int]:
    return []


EXPECTED = Signature.from_callable(typical)
PROVIDED = Signature.parse("(a: float, b: str, c: float = ..., *, d: bool = ..., e: int = ...)"
                           " -> list[int]").with_defaults({"c": "1.0", "d": "False", "e": "0"})
SAME = Signature.parse(str(EXPECTED)).with_defaults(EXPECTED.defaults)


def per_call(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(INNER):
        fn()
    return (time.perf_counter() - start) / INNER


def structural() -> object:
    compat.clear_cache()
    _typeshed_graph.subtype.cache_clear()
    return compat.check(EXPECTED, PROVIDED)


def fast_path() -> object:
    return compat.check(EXPECTED, SAME)


def inspect_signature() -> object:
    return inspect.signature(typical)


def from_callable() -> object:
    return Signature.from_callable(typical)


def through_inspect() -> object:
    return signature_module._from_inspect(typical, False)


def compare(name: str, measured: Callable[[], object], baseline: Callable[[], object],
            target: str) -> None:
    ratios: list[float] = []
    times: list[tuple[float, float]] = []
    for _ in range(ROUNDS):
        m = per_call(measured)
        b = per_call(baseline)
        ratios.append(m / b)
        times.append((m, b))
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    m_med = statistics.median(t[0] for t in times) * 1e6
    b_med = statistics.median(t[1] for t in times) * 1e6
    print(f"{name}: {m_med:.2f} us vs {b_med:.2f} us; ratio median {statistics.median(ratios):.3f}"
          f" (IQR {q1:.3f}-{q3:.3f}); speedup {1 / statistics.median(ratios):.1f}x; "
          f"target {target}")


def main() -> None:
    verdict = compat.check(EXPECTED, PROVIDED)
    assert verdict.ok and not verdict.identical, verdict.explain()
    assert compat.check(EXPECTED, SAME).identical
    assert from_callable() == through_inspect()
    for fn in (structural, fast_path, inspect_signature, from_callable, through_inspect):  # warm up
        per_call(fn)
    compare("(a) structural check / inspect.signature", structural, inspect_signature,
            "ratio <= 1.0")
    compare("(b) digest fast path / structural check", fast_path, structural, "speedup >= 20x")
    compare("(c) Signature.from_callable / via inspect.signature", from_callable, through_inspect,
            "ratio < 1.0")


if __name__ == "__main__":
    main()
