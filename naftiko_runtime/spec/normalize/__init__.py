"""The tolerant reader: rewrite what real capability files say into the canonical model shape, once.

Real files (``shared/corpus``) use a generated dialect the official schema rejects: typed consumed
parameters, ``info.title``, ``rest.x``/``tools.x`` references, ``$.`` for the root, tools without
``inputParameters``, ``auth:`` instead of ``authentication:``, other spec versions… Each accepted
dialect form is rewritten here and reported once per file as a warning with the place of its first
use. Genuinely broken input (a non-Naftiko file, an unknown adapter type) is an error.

Works in place on the plain data produced by :mod:`..source`; positions of renamed keys are carried
over so later problems still point at the right line. One module per part of a document
(:mod:`.document`, :mod:`.consumes`, :mod:`.authentication`, :mod:`.exposes`, :mod:`.units`), all
rewriting through one :class:`~.rewriter.Rewriter`; the accepted spellings are in :mod:`.vocabulary`.
"""

from .document import normalize

__all__ = ["normalize"]
