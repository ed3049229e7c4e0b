"""How the test run itself reports: what a newcomer sees at the end of `make test`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_skip_reasons_are_listed_at_the_end_of_the_run(tmp_path: Path) -> None:
    # With the project's pytest settings, a skipped test says why in the summary (without ../shared, 15 do).
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n\n@pytest.mark.skip(reason='needs ../shared/envtest')\ndef test_x():\n    pass\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(PROJECT / "pyproject.toml"), "-q", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert "SKIPPED [1]" in done.stdout and "needs ../shared/envtest" in done.stdout, done.stdout
