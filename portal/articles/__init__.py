"""Articles on disk: find, parse, validate and render `articles/<category>/<slug>.md`.

The Markdown files are the source of truth. This package knows nothing about requests or
the search engine: it turns a file into an `Article` (or a list of `Problem`s) and renders
its body to sanitized HTML once, when the file changes.

    model    the records: Article, Category, BestBet, Problem, ArticleError; article ids
    meta     front matter: the one splitter, the bounded YAML reader, the rules for keys
    render   Markdown to sanitized HTML, its table of contents, sections and text
    files    finding, reading and writing article files
    site     the settings files: _category.yml, _synonyms.yml, _best_bets.yml
    parse    one file to an Article
    folder   the whole folder checked, across files
"""

from .files import article_id
from .files import compose_file
from .files import content_hash
from .files import file_digest
from .files import folder_fingerprint
from .files import iter_article_files
from .files import reading
from .files import sync_folder
from .files import write_file_atomic
from .folder import check
from .folder import check_unless_unchanged
from .meta import KNOWN_KEYS
from .meta import MAX_NUMBER_CHARS
from .meta import MAX_REVIEW_DAYS
from .meta import MAX_YAML_DEPTH
from .meta import MAX_YAML_VALUES
from .meta import FrontMatter
from .meta import SplitText
from .meta import YamlDocument
from .meta import blank_after_front
from .meta import dump_front_matter
from .meta import read_front_matter
from .meta import read_yaml
from .meta import split_file
from .meta import split_front_matter
from .model import AUDIENCES
from .model import ID_SEGMENT
from .model import LANGUAGES
from .model import STATUSES
from .model import Article
from .model import ArticleError
from .model import BestBet
from .model import Category
from .model import Heading
from .model import Problem
from .model import Section
from .model import article_url
from .model import is_public
from .model import is_valid_id
from .parse import MAX_BODY_BYTES
from .parse import MAX_NESTING
from .parse import load_article
from .parse import parse_article
from .render import ALLOWED_ATTRIBUTES
from .render import ALLOWED_TAGS
from .render import RENDER_VERSION
from .render import URL_SCHEMES
from .render import render_markdown
from .render import sanitize
from .site import BEST_BETS_FILE
from .site import CATEGORY_FILE
from .site import RELATIONS_FILE
from .site import SYNONYMS_FILE
from .site import load_best_bets
from .site import load_category
from .site import load_relations_off
from .site import load_synonyms

__all__ = [
    "ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "AUDIENCES", "BEST_BETS_FILE", "CATEGORY_FILE",
    "ID_SEGMENT", "KNOWN_KEYS", "LANGUAGES", "MAX_BODY_BYTES", "MAX_NESTING",
    "MAX_NUMBER_CHARS", "MAX_REVIEW_DAYS", "MAX_YAML_DEPTH", "MAX_YAML_VALUES",
    "RELATIONS_FILE", "RENDER_VERSION", "STATUSES", "SYNONYMS_FILE", "URL_SCHEMES", "Article",
    "ArticleError",
    "BestBet", "Category", "FrontMatter", "Heading", "Problem", "Section", "SplitText",
    "YamlDocument", "article_id", "blank_after_front", "check", "check_unless_unchanged",
    "compose_file", "folder_fingerprint",
    "content_hash", "dump_front_matter", "file_digest", "article_url", "is_public", "is_valid_id",
    "iter_article_files", "load_article", "load_best_bets", "load_category",
    "load_relations_off", "load_synonyms",
    "parse_article", "read_front_matter", "read_yaml", "reading", "render_markdown",
    "sanitize", "split_file", "split_front_matter", "sync_folder", "write_file_atomic",
]
