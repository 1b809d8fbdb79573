"""Search: the only package that imports Whoosh. Views and commands use what is exported here."""

from .cache import cached_search
from .engine import Hit
from .engine import Scope
from .engine import SearchResults
from .engine import all_relations
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
from .relations import KINDS as RELATION_KINDS
from .relations import Relation

__all__ = [
    "ArticleInfo",
    "BuildReport",
    "Hit",
    "IndexedArticle",
    "RELATION_KINDS",
    "Relation",
    "Scope",
    "SearchIndex",
    "SearchResults",
    "all_relations",
    "cached_search",
    "clean_query",
    "has_words",
    "informative_words",
    "normalized_form",
    "related",
    "search",
    "suggest",
]
