"""sitegen — the static site generator for verified Pith mirrors.

A build reads Pith documents from ``content/``, verifies every record and
bundle against the operator's keyring (docs/protocol.md §1–4), and writes a static
output tree that any static host can serve as a Pith mirror.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
