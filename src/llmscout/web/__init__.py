"""The local web app (``llmscout serve``): pages and a REST API over the library and the store.

>>> from llmscout.web import create_app          # doctest: +SKIP
>>> app = create_app()                           # FastAPI; serve with uvicorn on 127.0.0.1
"""

from __future__ import annotations

from llmscout.web.app import create_app

__all__ = ["create_app"]
