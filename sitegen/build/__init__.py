"""The build machinery: scan → verify + render (worker pool) → indexes →
seal → publish (docs/scaling.md).

``scan`` (list content/, identify what changed), ``workers`` (verify and
render one Pith Number at a time), ``store`` (the build cache), ``publish``
(staging, ownership of the output directory, atomic publication),
``progress``, ``links`` (the link check over the pages rendered in-process);
``pipeline`` runs them in order.
"""

from sitegen.build.pipeline import BuildOptions, BuildResult, build

__all__ = ["build", "BuildOptions", "BuildResult"]
