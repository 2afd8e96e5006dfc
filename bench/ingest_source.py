"""Which warroom code is measured: a snapshot of src/ taken when the run starts.

The working tree may change while a long run goes on (other work in the same
checkout); every `warroom` command and server of one run should import the
same code, so by default src/ is copied into the run's temporary directory and
put first on PYTHONPATH for every child process (the editable install's path
entry comes after it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def describe() -> str:
    """The commit, and how many files of src/ differ from it."""
    head = _git("rev-parse", "--short", "HEAD") or "unknown commit"
    dirty = _git("status", "--porcelain", "--untracked-files=all", "src")
    changed = f" + {len(dirty.splitlines())} uncommitted changes in src/" if dirty else ""
    return f"warroom {head}{changed}"


def snapshot(into: Path) -> Path:
    """Copy src/ into ``into`` and make child processes import warroom from the copy."""
    target = into / "src"
    shutil.copytree(ROOT / "src", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    current = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = f"{target}{os.pathsep}{current}" if current else str(target)
    return target


def imported_from() -> str:
    """Where a child process would import warroom from (checks the snapshot took)."""
    done = subprocess.run(
        [sys.executable, "-c", "import warroom; print(warroom.__file__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return str(Path(done.stdout.strip()).parent) if done.returncode == 0 else "(import failed)"
