"""Verification: every rule a Pith document must pass before it is published.

Stage contract: parsed documents and the operator's keyring in; a report per
document (every named check, passed or failed) and the verified values —
the only place :class:`~sitegen.model.VerifiedRecord`,
:class:`~sitegen.model.VerifiedBundle` and :class:`~sitegen.model.MirrorEntry`
are made — out. Never raises for bad input.

``checks`` (rules shared by records, bundles and events) → ``event``,
``record``, ``bundle`` → ``documents`` (one document, then the rules across
documents); ``keyring`` (where trust comes from) and ``rollback`` (a document
older than the one published).
"""

from sitegen.verify.documents import verify_document, verify_documents

__all__ = ["verify_document", "verify_documents"]
