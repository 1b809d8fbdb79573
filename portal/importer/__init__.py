"""Import a folder of Markdown documentation (DocFX, Hugo or plain) as articles.

`import_folder(SRC, articles_dir)` walks SRC for `*.md` / `*.markdown`, converts each file
into an article of the category `articles/<category>/` and reports, file by file, what was
imported, updated, left unchanged or skipped and why. Re-running it updates the articles
it wrote before (found by their `source` key) instead of adding copies.

This is a domain package: no Flask, no printing; the command line reports the result.

    run           the import, step by step: read, convert, ids, links, check, write
    report        ImportEntry, ImportReport, ImporterError
    sources       finding source files; reading one, with its (YAML or TOML) front matter
    front_matter  the article's front matter made from the source's keys
    ids           article ids for the files, translations, aliases
    language      which language a page is in
    convert       a body as our Markdown: runs hugo, docfx, lists and the image steps
    hugo          Hugo shortcodes
    docfx         DocFX syntax
    lists         list indentation for Python-Markdown
    markup        small pieces of Markdown those steps write
    fences        fenced code, which no step touches
    titles        the page's title and H1s
    links         links and Hugo refs pointed at the imported articles
"""

from portal.text import slugify

from .convert import convert_body
from .language import detect_lang
from .report import ImportEntry
from .report import ImporterError
from .report import ImportReport
from .run import import_folder
from .sources import MAX_SOURCE_BYTES
from .sources import find_sources

__all__ = [
    "ImportEntry", "ImportReport", "ImporterError", "MAX_SOURCE_BYTES", "convert_body",
    "detect_lang", "find_sources", "import_folder", "slugify",
]
