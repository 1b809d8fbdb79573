"""Web plumbing: what every request passes through, whichever page it is for.

The deployment behind a proxy (`deployment`), the production server (`server`), staff
logins and API tokens (`auth`), the anonymous visitor's cookie (`visitors`), the interface
language (`i18n`), response security headers (`security`), rate limits (`limits`) and the
app's search index (`knowledge`). Domain modules never import from here; views and a package's
`init_app` wiring do.
"""
