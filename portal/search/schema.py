"""The index layout: one entry per article, one per section, plus categories and settings."""

from __future__ import annotations

from whoosh.fields import ID
from whoosh.fields import KEYWORD
from whoosh.fields import STORED
from whoosh.fields import TEXT
from whoosh.fields import Schema

from .analysis import text_analyzer
from .analysis import word_analyzer

#: Query-time weight of each article field; the title counts most.
ARTICLE_FIELDS = {
    "title": 4.0,
    "keywords": 2.5,
    "headings": 1.8,
    "summary": 1.5,
    "body": 1.0,
}
#: Fields of section entries, used to pick the section that answers best.
SECTION_FIELDS = {
    "sec_title": 2.0,
    "sec_body": 1.0,
}

#: Bump whenever the schema or the analysis changes: `build()` then re-indexes everything,
#: because entries made by the old analysis would not match queries analysed the new way.
INDEX_FORMAT = "6"

KIND_ARTICLE = "article"
KIND_SECTION = "section"
KIND_CATEGORY = "category"
KIND_SETTING = "setting"


def build_schema() -> Schema:
    """The schema of the search index."""
    text = text_analyzer()
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        kind=ID(stored=True, sortable=True),
        article=ID(stored=True, sortable=True),
        lang=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        audience=ID(sortable=True),
        status=ID(sortable=True),
        title=TEXT(analyzer=text),
        keywords=TEXT(analyzer=text),
        headings=TEXT(analyzer=text),
        summary=TEXT(analyzer=text),
        body=TEXT(analyzer=text),
        sec_title=TEXT(analyzer=text),
        sec_body=TEXT(analyzer=text),
        words=TEXT(analyzer=word_analyzer(), phrase=False),
        aliases=KEYWORD(commas=True),
        translations=KEYWORD(commas=True),
        digest=ID(sortable=True),
        stamp=ID(sortable=True),
        data=STORED(),
    )
