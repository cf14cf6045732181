"""The C rules (docs/design.md §3.4) as a table: (old declaration, new declaration, expected
findings).

Both sides go through the real preprocessor, pycparser and the gcc layout probe.
"""

from __future__ import annotations

from typing import Any

import pytest

from siglink.contracts.verdict import Severity
from siglink.native.cdecl import describe
from siglink.native.compat import check_function

B, R, H = Severity.INCOMPATIBLE, Severity.REVIEW, Severity.HARMLESS

COMMON_OLD = """
typedef unsigned long ulong_t;
struct pt { int x; int y; };
struct grow { int a; int b; };
struct lib_owned { int a; };
struct opaque;
enum mode { M_A, M_B };
enum shrink { S_A, S_B, S_C };
enum renum { R_A, R_B };
enum widen { W_A, W_B };
typedef int (*cb_t)(int);
typedef int (*cb_ptr_t)(char *text);
typedef void (*cb_void_t)(int);
typedef int (*cb_int_t)(int);
struct gone { int a; int b; };
struct seen { int a; };
struct anon_same { int kind; int i; };
struct anon_moved { int kind; union { int i; float f; }; };
"""
COMMON_NEW = """
typedef unsigned long size_like;
struct pt { int x; long y; };
struct grow { int a; int b; int c; };
struct lib_owned { int a; int extra; };
struct opaque { double anything; };
enum mode { M_A, M_B, M_C };
enum shrink { S_A, S_B };
enum renum { R_B, R_A };
enum widen { W_A, W_B, W_BIG = 0x100000000 };
typedef int (*cb_t)(long);
typedef int (*cb_ptr_t)(const char *text);
typedef int (*cb_void_t)(int);
typedef void (*cb_int_t)(int);
struct gone { int a; };
struct seen;
struct anon_same { int kind; union { int i; struct { float f; }; }; };
struct anon_moved { int kind; struct { int i; float f; }; };
"""

# name: (old declaration, new declaration, expected {(rule, severity)})
CASES: dict[str, tuple[str, str, set[tuple[str, Severity]]]] = {
    "same": ("int same(int a);", "int same(int a);", set()),
    "c3_count": ("int c3_count(int a);", "int c3_count(int a, int b);", {("C3", B)}),
    "c3_variadic": ("int c3_variadic(int a);", "int c3_variadic(int a, ...);", {("C3", B)}),
    "c3_variadic_removed": ("int c3_variadic_removed(int a, ...);",
                            "int c3_variadic_removed(int a);", {("C3", B)}),
    "c3_removed": ("int c3_removed(int a, int b);", "int c3_removed(int a);", {("C3", B)}),
    "c4_int_long": ("int c4_int_long(int a);", "int c4_int_long(long a);", {("C4", B)}),
    "c4_sign": ("int c4_sign(int a);", "int c4_sign(unsigned a);", {("C4", B)}),
    "c4_float": ("int c4_float(int a);", "int c4_float(float a);", {("C4", B)}),
    "c4_level": ("int c4_level(int *a);", "int c4_level(int **a);", {("C4", B)}),
    "c4_pointee": ("int c4_pointee(int *a);", "int c4_pointee(long *a);", {("C4", B)}),
    "c4_level_down": ("int c4_level_down(int **a);", "int c4_level_down(int *a);", {("C4", B)}),
    "c4_return": ("int c4_return(void);", "long c4_return(void);", {("C4", B)}),
    "c4_double_float": ("double c4_double_float(void);", "float c4_double_float(void);",
                        {("C4", B)}),
    # same size and alignment as long double on x86-64, another format
    "c4_float128": ("long double c4_float128(long double x);",
                    "_Float128 c4_float128(long double x);", {("C4", B)}),
    "c4_pointer_to_int": ("long c4_pointer_to_int(void *p);",
                          "long c4_pointer_to_int(long p);", {("C4", B)}),
    "c5_typedef": ("ulong_t c5_typedef(ulong_t a);", "size_like c5_typedef(unsigned long a);",
                   {("C5", H)}),
    "c6_const_value": ("int c6_const_value(int a);", "int c6_const_value(const int a);",
                       {("C6", H)}),
    "c6_const_removed": ("int c6_const_removed(const int a);", "int c6_const_removed(int a);",
                         {("C6", H)}),
    "c7_added": ("int c7_added(char *s);", "int c7_added(const char *s);", {("C7", H)}),
    "c7_removed": ("int c7_removed(const char *s);", "int c7_removed(char *s);", {("C7", R)}),
    "c8_added": ("char *c8_added(void);", "const char *c8_added(void);", {("C8", R)}),
    "c8_removed": ("const char *c8_removed(void);", "char *c8_removed(void);", {("C8", H)}),
    "c9_removed": ("void c9_removed(int *restrict p);", "void c9_removed(int *p);",
                   {("C9", H)}),
    "c9_added": ("void c9_added(int *p);", "void c9_added(int *restrict p);", {("C9", R)}),
    "c10_void": ("void c10_void(void *p);", "void c10_void(int *p);", {("C10", R)}),
    "c10_to_void": ("void c10_to_void(int *p);", "void c10_to_void(void *p);", {("C10", H)}),
    "c10_return_to_void": ("int *c10_return_to_void(void);", "void *c10_return_to_void(void);",
                           {("C10", R)}),
    "c10_return_typed": ("void *c10_return_typed(void);", "int *c10_return_typed(void);",
                         {("C10", H)}),
    "c11_scalar": ("void c11_scalar(void);", "int c11_scalar(void);", {("C11", H)}),
    "c11_aggregate": ("void c11_aggregate(void);", "struct pt c11_aggregate(void);",
                      {("C11", B)}),
    "c11_void": ("int c11_void(void);", "void c11_void(void);", {("C11", B)}),
    "c12_renamed": ("int c12_renamed(int a);", "int c12_renamed(int b);", {("C12", H)}),
    "c13_param": ("void c13_param(enum mode m);", "void c13_param(enum mode m);", {("C13", H)}),
    "c13_return": ("enum mode c13_return(void);", "enum mode c13_return(void);", {("C13", R)}),
    "c13_removed": ("void c13_removed(enum shrink s);", "void c13_removed(enum shrink s);",
                    {("C13", B)}),
    "c13_renumbered": ("void c13_renumbered(enum renum r);", "void c13_renumbered(enum renum r);",
                       {("C13", B)}),
    "c13_size": ("void c13_size(enum widen w);", "void c13_size(enum widen w);", {("C4", B)}),
    "c14_by_value": ("int c14_by_value(struct pt p);", "int c14_by_value(struct pt p);",
                     {("C14", B)}),
    "c15_consumer_grown": ("void c15_consumer_grown(struct grow *g);",
                           "void c15_consumer_grown(struct grow *g);", {("C15", B)}),
    "c15_library_grown": ("struct lib_owned *c15_library_grown(void);",
                          "struct lib_owned *c15_library_grown(void);", {("C15", H)}),
    "c15_moved": ("int c15_moved(struct pt *p);", "int c15_moved(struct pt *p);",
                  {("C4", B), ("C15", B)}),
    "c15_removed": ("int c15_removed(struct gone *g);", "int c15_removed(struct gone *g);",
                    {("C15", B)}),
    # members of anonymous structs and unions are compared where C reaches them
    "c15_anonymous_same": ("int c15_anonymous_same(struct anon_same *p);",
                           "int c15_anonymous_same(struct anon_same *p);", set()),
    "c15_anonymous_moved": ("int c15_anonymous_moved(struct anon_moved *p);",
                            "int c15_anonymous_moved(struct anon_moved *p);", {("C15", B)}),
    "c16_opaque": ("void c16_opaque(struct opaque *o);", "void c16_opaque(struct opaque *o);",
                   set()),
    "c16_hidden": ("void c16_hidden(struct seen *o);", "void c16_hidden(struct seen *o);",
                   {("C16", R)}),
    "callback": ("int callback(cb_t f);", "int callback(cb_t f);", {("C4", B)}),
    # inside a callback the directions flip: the library calls the consumer's function
    "callback_const": ("int callback_const(cb_ptr_t f);", "int callback_const(cb_ptr_t f);",
                       {("C8", R)}),
    "callback_void_read": ("int callback_void_read(cb_void_t f);",
                           "int callback_void_read(cb_void_t f);", {("C11", B)}),
    "callback_value_ignored": ("int callback_value_ignored(cb_int_t f);",
                               "int callback_value_ignored(cb_int_t f);", {("C11", H)}),
    "c17_callconv": ("int c17_callconv(int a);",
                     "int __attribute__((ms_abi)) c17_callconv(int a);", {("C17", B)}),
    "c17_callconv_removed": ("int __attribute__((ms_abi)) c17_callconv_removed(int a);",
                             "int c17_callconv_removed(int a);", {("C17", B)}),
}


@pytest.fixture(scope="module")
def sides() -> tuple[dict[str, Any], dict[str, Any]]:
    old = describe(COMMON_OLD + "\n".join(c[0] for c in CASES.values()), text=True)
    new = describe(COMMON_NEW + "\n".join(c[1] for c in CASES.values()), text=True)
    return old, new


@pytest.mark.parametrize("name", list(CASES))
def test_rule(name: str, sides: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = sides
    verdict = check_function(old, new, name)
    found = {(p.rule, p.severity) for p in verdict.problems}
    assert found == CASES[name][2], verdict.explain()
    assert verdict.ok == all(severity is not B for _rule, severity in CASES[name][2])


def test_a_declaration_is_compatible_with_itself(
    sides: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    for side in sides:
        for name in side["functions"]:
            verdict = check_function(side, side, name)
            assert verdict.identical, (name, verdict.explain())
