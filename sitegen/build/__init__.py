"""The build machinery: scan → verify + render (worker pool) → indexes →
seal → publish (docs/scaling.md). ``pipeline`` runs the stages in order:

* ``inputs`` (settings, keyring, theme, pages and their fingerprints);
* ``scan`` and ``plan`` (list content/, identify what changed, decide what to
  verify and render again);
* ``entries``, ``workers`` and ``pool`` (verify and render one Pith Number at
  a time on forked workers);
* ``indexes``, ``listing_pages`` and ``lookups`` (listings, alias maps, the
  search index, sitemaps, site pages), ``links`` (the link check);
* ``seal`` (the mirror snapshot) and ``publish``, ``safetree`` and ``outdir``
  (staging, atomic publication, ownership of the output directory);
* ``store`` and ``ledger`` (the build cache and who published which file),
  ``progress``.
"""

from sitegen.build.pipeline import BuildOptions, BuildResult, build

__all__ = ["build", "BuildOptions", "BuildResult"]
