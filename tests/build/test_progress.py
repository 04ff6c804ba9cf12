"""sitegen.build.progress: the progress display of a build or a pull."""

from __future__ import annotations

import io

from sitegen.build.progress import Progress


def test_progress_plain_lines_and_bar():
    out = io.StringIO()
    with Progress("lines", out, interval=0).stage("verify+render", 3) as bar:
        for _ in range(3):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("verify+render: 1/3 (") and lines[-1].startswith("verify+render: 3/3 (")
    out = io.StringIO()
    with Progress("bar", out).stage("scan", 10) as bar:
        bar.update(10)
    assert "scan:" in out.getvalue() and "/10 [" in out.getvalue() and "doc/s" in out.getvalue()  # tqdm drew it
    out = io.StringIO()
    with Progress("off", out).stage("scan", 10) as bar:
        bar.update(10)
    assert out.getvalue() == ""
