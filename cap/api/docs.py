"""The API's interactive documentation at ``/api/v1/docs``: Swagger UI over the OpenAPI
document, from files cap serves itself (swagger-ui-bundle-v2), started by a script file of
its own, so the page keeps the strict Content-Security-Policy (no CDN, no inline script)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

HERE = Path(__file__).parent

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: interactive documentation</title>
<link rel="stylesheet" href="{root}/docs/swagger/swagger-ui.css">
<link rel="stylesheet" href="{root}/docs/static/docs.css">
</head>
<body>
<main id="swagger-ui" data-openapi="{root}/openapi.json"></main>
<script src="{root}/docs/swagger/swagger-ui-bundle.js"></script>
<script src="{root}/docs/static/docs.js"></script>
</body>
</html>
"""


def install(api: FastAPI) -> None:
    """Serve the documentation page and its files on ``api`` (not in its document)."""
    api.mount("/docs/swagger", StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    api.mount("/docs/static", StaticFiles(directory=HERE / "static"), name="docs-static")

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = escape(request.scope.get("root_path", ""), quote=True)
        return HTMLResponse(PAGE.format(title=escape(api.title), root=root))
