"""The sandbox's ``/dev`` is no way around its ``/tmp`` limit: ``/dev`` itself is read-only
(its devices still work), and ``/dev/shm`` is a tmpfs of ``Limits.shm_bytes``, so writing more
than that fails inside while a small write and a semaphore still work."""

from __future__ import annotations

import json
import sys

import pytest

from siglink import _sandbox

needs_bwrap = pytest.mark.skipif(_sandbox.bwrap() is None,
                                 reason="bubblewrap (bwrap) is not installed")

_PROBE = """\
import json, multiprocessing, os, sys
limit = int(sys.argv[1])
found = {}
def attempt(key, path, size):
    try:
        with open(path, "wb") as f:
            for _ in range(size // 65536 + 1):
                f.write(bytes(65536))
        found[key] = "written"
    except OSError as e:
        found[key] = e.strerror
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
attempt("shm_small", "/dev/shm/small", 65536)
attempt("shm_over", "/dev/shm/big", 2 * limit)
attempt("dev_file", "/dev/planted", 65536)
with open("/dev/null", "wb") as f:
    f.write(b"x")
multiprocessing.Lock()
found["semaphore"] = "ok"
print(json.dumps(found))
"""


@needs_bwrap
def test_dev_is_read_only_and_dev_shm_is_bounded() -> None:
    limits = _sandbox.Limits(shm_bytes=1 << 20)
    outcome = _sandbox.run([sys.executable, "-I", "-c", _PROBE, str(limits.shm_bytes)],
                           limits=limits)
    assert outcome.returncode == 0, outcome.stderr.decode(errors="replace")
    found = json.loads(outcome.stdout)
    assert found["shm_small"] == "written"
    assert found["shm_over"] == "No space left on device"
    assert found["dev_file"] == "Read-only file system"
    assert found["semaphore"] == "ok"


@needs_bwrap
def test_the_default_dev_shm_is_far_smaller_than_memory() -> None:
    code = "import os; s = os.statvfs('/dev/shm'); print(s.f_blocks * s.f_frsize)"
    outcome = _sandbox.run([sys.executable, "-I", "-c", code])
    assert outcome.returncode == 0, outcome.stderr.decode(errors="replace")
    assert int(outcome.stdout) == _sandbox.Limits().shm_bytes
