"""The Pith protocol: pure rules, no I/O (docs/protocol.md).

``canonical`` (canonical JSON and the digests over it), ``numbers`` (the
Pith Number), ``keys`` (key documents and Ed25519 signatures),
``strict_json`` (the one strict parser, document types), ``shapes`` (the
documents' declared shapes), ``timestamps``, ``events`` (event kinds),
``merge`` (recomputing a bundle's state), ``routes`` (the URL layout).
Each rule is defined once, here, and imported everywhere else.
"""
