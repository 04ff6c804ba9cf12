"""``sitegen pull``: download Pith documents from a mirror or the resolver,
verify each before it lands in ``content/``.

The pipeline, one module per job: ``names`` (what the user named) and
``filters`` (what a pull takes) → ``fetch`` (HTTP with caps, timeouts,
retries) → ``listing`` (the mirror snapshot's format) and ``trust`` (whether
a snapshot may be believed) → ``sources`` (what each kind of source says to
fetch) → ``process`` (one Pith Number: quarantine, verify, land) with
``landing`` (the workspace and ``content/``) and ``state`` (what earlier
pulls did) → ``run`` (the orchestrator).
"""

from sitegen.pull.filters import Selection
from sitegen.pull.names import UsageError
from sitegen.pull.run import PullOptions, PullReport, pull

__all__ = ["pull", "PullOptions", "PullReport", "Selection", "UsageError"]
