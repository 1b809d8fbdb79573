"""Names for the Whoosh objects this package passes around.

Whoosh ships no type information, so each name is `Any` to the type checker; the name
still says which object a function takes or returns.
"""

from __future__ import annotations

from typing import Any
from typing import TypeAlias

#: An open index (whoosh.index.FileIndex).
Index: TypeAlias = Any  # whoosh is untyped
#: A searcher over one index generation (whoosh.searching.Searcher).
Searcher: TypeAlias = Any  # whoosh is untyped
#: A reader of the whole index or of one segment (whoosh.reading.IndexReader).
Reader: TypeAlias = Any  # whoosh is untyped
#: The index's single writer (whoosh.writing.IndexWriter).
Writer: TypeAlias = Any  # whoosh is untyped
#: A token passing through an analyzer chain (whoosh.analysis.Token).
Token: TypeAlias = Any  # whoosh is untyped
#: A tokenizer with its filters (whoosh.analysis.CompositeAnalyzer).
Analyzer: TypeAlias = Any  # whoosh is untyped
#: A query tree (whoosh.query.Query).
Query: TypeAlias = Any  # whoosh is untyped
#: The stored fields of one entry, as Whoosh unpickles them: values of any JSON-like type.
StoredFields: TypeAlias = dict[str, Any]
