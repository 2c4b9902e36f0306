"""What every command-line test script shares: the binary under test, PASS / FAIL lines, running dlrm.

Scripts print one line per check, "PASS name" or "FAIL name: why" (tests/run_all.sh counts them),
and exit with exit_code(). DLRM_BIN selects the binary (default build/tools/dlrm).
"""
import os
import resource
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DLRM = os.environ.get("DLRM_BIN") or os.path.join(ROOT, "build", "tools", "dlrm")
failures = 0


def check(name, ok, why=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)
    failures += 0 if ok else 1


def dlrm(*args, fsize=None):
    """Runs dlrm with args, output captured; fsize sets a file-size limit (ulimit -f) in bytes."""
    pre = None
    if fsize is not None:
        def pre():
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    return subprocess.run([DLRM, *args], capture_output=True, text=True, preexec_fn=pre)


def exit_code():
    return 1 if failures else 0
