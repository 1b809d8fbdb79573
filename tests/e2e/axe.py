"""axe-core in a page: the accessibility rules every page must pass."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def axe_violations(browser, url: str, **context_options) -> list[str]:
    """WCAG 2 A/AA and best-practice violations on the page at `url`, one line each.
    Only this context bypasses the pages' CSP, to inject the script; `context_options`
    go to the new context (`storage_state=` to look at a page as a logged-in user)."""
    context = browser.new_context(bypass_csp=True, **context_options)
    try:
        page = context.new_page()
        page.goto(url)
        page.add_script_tag(content=AXE.read_text("utf-8"))
        return page.evaluate("""async () => {
            const result = await axe.run(document,
                                         {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']});
            return result.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' | '));
        }""")
    finally:
        context.close()
