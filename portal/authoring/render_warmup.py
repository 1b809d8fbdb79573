"""Imported only by the renderer's fork server: renders a sample once, so that the loading
Python-Markdown and Pygments do on their first use (extension entry points, lexers) is done
there, before the fork, instead of in every child (a first render takes about 10 ms, a
warm one 2 ms)."""

from ..articles import render_markdown

SAMPLE = """## Heading

Text with *emphasis*, `code` and a [link](https://example.com).

| a | b |
|---|---|
| 1 | 2 |

```text
code
```

!!! note "Note"
    An admonition.

Term
:   Definition
"""

render_markdown(SAMPLE)
