"""Whether a compiled class's data descriptors take assignment and deletion, as the sandboxed
inspection reads them (a getset descriptor's setter, a member's ``READONLY`` flag and type),
against what Python does with the same extension (the runtime is the oracle)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

from siglink import _sandbox
from siglink.contracts.manifest import ExportKind
from siglink.python._compiled import _Rejected, _validated, inspect_compiled

C_SOURCE = r"""
#include <Python.h>
#include <structmember.h>
typedef struct { PyObject_HEAD PyObject *m_ro; PyObject *m_rw; int n_rw; int value; } Shape;
static PyObject *get_value(Shape *self, void *closure) { return PyLong_FromLong(self->value); }
static int set_value(Shape *self, PyObject *v, void *closure) {
    if (v == NULL) { PyErr_SetString(PyExc_AttributeError, "cannot delete rw"); return -1; }
    self->value = (int)PyLong_AsLong(v);
    return PyErr_Occurred() ? -1 : 0;
}
static PyGetSetDef getset[] = {
    {"ro", (getter)get_value, NULL, NULL, NULL},
    {"rw", (getter)get_value, (setter)set_value, NULL, NULL},
    {NULL}
};
static PyMemberDef members[] = {
    {"m_ro", T_OBJECT_EX, offsetof(Shape, m_ro), READONLY, NULL},
    {"m_rw", T_OBJECT_EX, offsetof(Shape, m_rw), 0, NULL},
    {"n_rw", T_INT, offsetof(Shape, n_rw), 0, NULL},
    {NULL}
};
static void dealloc(Shape *self) {
    Py_XDECREF(self->m_ro); Py_XDECREF(self->m_rw); Py_TYPE(self)->tp_free((PyObject *)self);
}
static PyTypeObject ShapeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_shapes.Shape", .tp_basicsize = sizeof(Shape), .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew, .tp_dealloc = (destructor)dealloc, .tp_getset = getset,
    .tp_members = members,
};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_shapes", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__shapes(void) {
    if (PyType_Ready(&ShapeType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&ShapeType);
    PyModule_AddObject(m, "Shape", (PyObject *)&ShapeType);
    return m;
}
"""

EXPECTED = {
    "ro": (False, False),
    "rw": (True, None),  # the setter also receives deletions: what it does is not known
    "m_ro": (False, False),
    "m_rw": (True, True),
    "n_rw": (True, False),  # a number cannot be deleted
}


@pytest.fixture
def extension(tmp_path: Path) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    include = sysconfig.get_paths()["include"]
    if compiler is None or not (Path(include) / "Python.h").is_file():
        pytest.skip(f"needs a C compiler and Python headers (compiler={compiler}, {include})")
    (tmp_path / "shapes.c").write_text(C_SOURCE)
    root = tmp_path / "root"
    root.mkdir()
    built = root / f"_shapes{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run([compiler, "-shared", "-fPIC", f"-I{include}", str(tmp_path / "shapes.c"),
                    "-o", str(built)], check=True)
    return built


def _runtime(built: Path, name: str) -> tuple[bool, bool]:
    """Does assigning ``name`` on a fresh instance work, and deleting it after that?"""
    spec = importlib.util.spec_from_file_location("_shapes", built)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shape = module.Shape()
    try:
        setattr(shape, name, 2)
    except AttributeError:
        assigned = False
    else:
        assigned = True
    try:
        delattr(shape, name)
    except (AttributeError, TypeError):  # TypeError: "can't delete numeric/char attribute"
        deleted = False
    else:
        deleted = True
    return assigned, deleted


@pytest.mark.skipif(_sandbox.bwrap() is None, reason="bubblewrap (bwrap) is not installed")
def test_descriptors_as_python_runs_them(extension: Path) -> None:
    exports, diagnostics = inspect_compiled(extension.parent, ["_shapes"])
    assert diagnostics == []
    members = exports["_shapes.Shape"].members
    recorded = {name: (m.setter, m.deleter) for name, m in members.items()
                if m.kind is ExportKind.PROPERTY}
    assert recorded == EXPECTED
    for name, (setter, deleter) in recorded.items():
        runs = _runtime(extension, name)
        assert setter is None or setter is runs[0], (name, runs)
        assert deleter is None or deleter is runs[1], (name, runs)


@pytest.mark.parametrize("value", ["yes", 1, [True]])
def test_a_hostile_setter_value_is_rejected(value: object) -> None:
    """The inspection's output is hostile: a setter that is not true, false or null (or one
    on what is not a property) rejects the whole output."""
    for kind in ("property", "method"):
        item = {"kind": "class", "members": {"x": {"kind": kind, "setter": value}}}
        out = json.dumps({"m": {"members": {"K": item}}}).encode()
        with pytest.raises(_Rejected, match=r"m\.K\.x\.setter: not true, false or null"):
            _validated(out, ["m"])
    ok = {"kind": "class", "members": {"x": {"kind": "property", "setter": None}}}
    assert _validated(json.dumps({"m": {"members": {"K": ok}}}).encode(), ["m"])
