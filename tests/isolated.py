"""Running code in a fresh interpreter for the reliability tests: a hang fails the test
(never the suite), and resource limits (address space, file size) apply to the child only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

PYTHON = sys.executable

# AddressSanitizer (the sanitizer CI job) reserves terabytes of address space and maps more
# as it goes: a bounded address space would measure it, not alskit.
BOUNDED_ADDRESS_SPACE = pytest.mark.skipif(
    "asan" in os.environ.get("LD_PRELOAD", ""), reason="RLIMIT_AS tests do not apply under ASan"
)

#: Defines ``limit_address_space(extra)`` in the child: RLIMIT_AS = what it maps now + extra.
LIMIT_ADDRESS_SPACE = """
    import resource
    def limit_address_space(extra):
        status = open("/proc/self/status").read()
        size = int(status.split("VmSize:")[1].split()[0]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + extra, resource.RLIM_INFINITY))
"""


def run_python(code: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (dedented) in a fresh interpreter, failing the test if it hangs."""
    try:
        return subprocess.run(
            [PYTHON, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"the subprocess hung (killed after {timeout} s): {e.stdout!r} {e.stderr!r}")


def run_script(
    path: os.PathLike[str] | str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a Python script in its own process group; if it hangs, the whole group (forked
    children too) is killed and the test fails."""
    proc = subprocess.Popen(
        [PYTHON, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{path} hung (its process group was killed after {timeout} s)")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
