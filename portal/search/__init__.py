"""Search: the only package that imports Whoosh. Views and commands use what is exported here."""

from .engine import Hit
from .engine import Scope
from .engine import SearchResults
from .engine import informative_words
from .engine import related
from .engine import search
from .engine import suggest
from .index import ArticleInfo
from .index import BuildReport
from .index import IndexedArticle
from .index import SearchIndex
from .query import clean_query
from .query import has_words
from .query import normalized_form

__all__ = [
    "ArticleInfo",
    "BuildReport",
    "Hit",
    "IndexedArticle",
    "Scope",
    "SearchIndex",
    "SearchResults",
    "clean_query",
    "has_words",
    "informative_words",
    "normalized_form",
    "related",
    "search",
    "suggest",
]
