"""How problems read: whole C types, one line per problem, incompatible ones first."""

from __future__ import annotations

from pathlib import Path

import pytest
from native_clib import header

from siglink.contracts.verdict import Problem, Severity, Verdict
from siglink.errors import NativeError
from siglink.native import NativeLinkError, link
from siglink.native.cdecl import describe
from siglink.native.compat import check_function

OLD = """
struct point { int x; int y; int z; };
struct outer { int a; struct point p; };
struct q { int x; int y; };
unsigned long crc(unsigned long crc, const unsigned char *buf, unsigned int len);
unsigned long crc_sign(const char *buf);
unsigned long crc_size(const int *buf);
unsigned long crc_const(unsigned char *buf);
void deep_ptr(int **out);
double norm(struct point p);
struct point mid(struct point a);
int deep(struct outer o);
int moved(struct q v);
int mixed(int renamed, const char *text, int size);
"""
NEW = """
typedef unsigned char Bytef;
typedef unsigned long uLong;
struct point { int x; int y; int z; int w; };
struct outer { int a; struct point p; };
struct q { int y; int x; };
uLong crc(uLong crc, const Bytef *buf, unsigned int len);
unsigned long crc_sign(const Bytef *buf);
unsigned long crc_size(const Bytef *buf);
unsigned long crc_const(const Bytef *buf);
void deep_ptr(long **out);
double norm(struct point p);
struct point mid(struct point a);
int deep(struct outer o);
int moved(struct q v);
int mixed(int name, char *text, long size);
"""


@pytest.fixture(scope="module")
def sides() -> tuple[dict[str, object], dict[str, object]]:
    return describe(OLD, text=True), describe(NEW, text=True)


def _lines(sides: tuple[dict[str, object], dict[str, object]], name: str) -> list[str]:
    return check_function(sides[0], sides[1], name).explain().splitlines()


def test_pointer_parameters_show_the_whole_type(
    sides: tuple[dict[str, object], dict[str, object]],
) -> None:
    assert _lines(sides, "crc") == [
        "C5 crc param 1 (crc): expected unsigned long, found uLong (= unsigned long); "
        "renamed to an identical type (harmless)",
        "C5 crc param 2 (buf): expected const unsigned char *, found const Bytef * "
        "(= const unsigned char *); renamed to an identical type (harmless)",
        "C5 crc return: expected unsigned long, found uLong (= unsigned long); "
        "renamed to an identical type (harmless)",
    ]
    assert _lines(sides, "crc_sign") == [
        "C4 crc_sign param 1 (buf): expected const char *, found const Bytef * "
        "(= const unsigned char *); pointee: signed became unsigned (incompatible)",
    ]
    assert _lines(sides, "crc_size") == [
        "C4 crc_size param 1 (buf): expected const int *, found const Bytef * "
        "(= const unsigned char *); pointee: size 4 became 1; alignment 4 became 1; "
        "signed became unsigned (incompatible)",
    ]
    assert _lines(sides, "crc_const")[0] == (
        "C7 crc_const param 1 (buf): expected unsigned char *, found const Bytef * "
        "(= const unsigned char *); const added to the pointee (harmless)")
    # two levels down: still the parameter's whole type
    assert _lines(sides, "deep_ptr") == [
        "C4 deep_ptr param 1 (out): expected int **, found long **; "
        "pointee: size 4 became 8; alignment 4 became 8 (incompatible)",
    ]


def test_a_struct_by_value_is_one_clean_line(
    sides: tuple[dict[str, object], dict[str, object]],
) -> None:
    assert _lines(sides, "norm") == [
        "C14 norm param 1 (p): expected 3 fields and size 12, found 4 fields and size 16; "
        "struct point passed by value is not identical (incompatible)",
    ]
    assert _lines(sides, "mid") == [
        "C14 mid param 1 (a): expected 3 fields and size 12, found 4 fields and size 16; "
        "struct point passed by value is not identical (incompatible)",
        "C14 mid return: expected 3 fields and size 12, found 4 fields and size 16; "
        "struct point returned by value is not identical (incompatible)",
    ]
    assert _lines(sides, "moved") == [
        "C14 moved param 1 (v) -> struct q field x: expected offset 0, found offset 4; "
        "struct q passed by value is not identical: the field moved (incompatible)",
        "C14 moved param 1 (v) -> struct q field y: expected offset 4, found offset 0; "
        "struct q passed by value is not identical: the field moved (incompatible)",
    ]
    nested = _lines(sides, "deep")
    assert nested == [
        "C14 deep param 1 (o) -> struct outer field p: expected 3 fields and size 12, found 4 "
        "fields and size 16; struct point passed by value is not identical (incompatible)",
        "C14 deep param 1 (o): expected size 16, found size 20; "
        "struct outer passed by value is not identical (incompatible)",
    ]
    for line in nested + _lines(sides, "norm"):  # no problem explained inside another
        assert line.count("(incompatible)") == 1 and line.count("C14") == 1, line


def test_incompatible_problems_come_first(
    sides: tuple[dict[str, object], dict[str, object]],
) -> None:
    verdict = check_function(sides[0], sides[1], "mixed")
    # found in parameter order: C12 (harmless), C7 (review), C4 (incompatible)
    assert [(p.rule, p.severity) for p in verdict.problems] == [
        ("C4", Severity.INCOMPATIBLE), ("C7", Severity.REVIEW), ("C12", Severity.HARMLESS),
    ]


def test_the_link_error_lists_every_problem_incompatible_first() -> None:
    problems = (
        Problem("C12", "f param 1 (a)", "a", "b", Severity.HARMLESS, "parameter renamed"),
        Problem("C7", "f param 2 (p)", "const char *", "char *", Severity.REVIEW),
        Problem("C4", "g return", "int", "long", Severity.INCOMPATIBLE),
    )
    error = NativeLinkError("libx.so.1", "/lib/libx.so.1", Verdict(problems))
    assert error.message.splitlines() == [
        "cannot link libx.so.1 (/lib/libx.so.1)",
        "  C4 g return: expected int, found long (incompatible)",
        "  C7 f param 2 (p): expected const char *, found char * (review)",
        "  C12 f param 1 (a): expected a, found b; parameter renamed (harmless)",
    ]
    assert error.symbols == ("g",)


def test_a_refused_library_lists_review_and_harmless_problems_last(
    sl_demo: dict[str, Path],
) -> None:
    with pytest.raises(NativeLinkError) as info:
        link(sl_demo["2.0"], header("1.0"))
    severities = [line.rsplit("(", 1)[1] for line in info.value.message.splitlines()[1:]]
    assert severities == sorted(severities, key=["incompatible)", "review)",
                                                 "harmless)"].index)
    assert severities[0] == "incompatible)" and severities[-1] == "harmless)"


def test_link_refuses_no_declarations(sl_demo: dict[str, Path], tmp_path: Path) -> None:
    for empty in ("", "  \n\t"):
        with pytest.raises(NativeError, match=r"^no declarations given"):
            link(sl_demo["1.0"], empty)
    types_only = tmp_path / "types.h"
    types_only.write_text("struct s { int x; };\n#define N 3\n")
    with pytest.raises(NativeError) as info:
        link(sl_demo["1.0"], types_only)
    assert info.value.message == f"{types_only}: declares no function (nothing to check)"
