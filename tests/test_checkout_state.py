"""``checkout_state`` (scripts/common.sh): what scripts/test.sh compares before and
after a run to say that the run left the checkout as it was.

It runs under ``set -euo pipefail``, so a step of it that fails stops the whole
test run before its first check; these tests run it on a throwaway git
checkout with the untracked files a developer's checkout may hold.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _git(checkout: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(checkout), *args], check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A git checkout (its path with a space) holding scripts/common.sh, committed."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "a checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "common.sh", root / "scripts" / "common.sh")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x")
    return root


def state(checkout: Path) -> str:
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail; source scripts/common.sh; checkout_state"],
        cwd=checkout, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_clean_checkout_has_an_empty_state(checkout: Path) -> None:
    assert state(checkout) == ""


def test_untracked_links_and_files_are_named_and_their_changes_seen(checkout: Path) -> None:
    (checkout / "dangling").symlink_to(checkout / "nowhere")
    (checkout / "a folder").mkdir()
    (checkout / "linked folder").symlink_to(checkout / "a folder", target_is_directory=True)
    (checkout / "a note.txt").write_text("one\n")
    first = state(checkout)
    assert "dangling" in first and "linked folder" in first and "a note.txt" in first
    (checkout / "a note.txt").write_text("two\n")
    assert state(checkout) != first  # same git status, other content
    (checkout / "dangling").unlink()
    (checkout / "dangling").symlink_to(checkout / "elsewhere")
    assert len({first, state(checkout)}) == 2
