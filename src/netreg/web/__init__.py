"""``netreg serve``: the campaign on a local web page (SPEC §10).

A boundary like ``cli/``: each handler parses the request, calls the library function the CLI
also calls (campaign_status, unit_history, take_paths, the ledger's paper/exclude/include),
and renders a jinja2 page. Starlette and uvicorn are imported only when the server starts.
"""
