"""The mirror as a whole: the signed snapshot of the output tree
(``snapshot``), the operator's mirror key (``key``), and ``sitegen verify``
(``audit``), which checks a built or deployed mirror against its snapshot.
"""
