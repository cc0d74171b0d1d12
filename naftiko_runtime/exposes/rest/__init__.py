"""REST adapter: one ASGI app per ``type: rest`` expose, a thin translator onto the invocation core.

Usage::

    runtime = Runtime.build(load("capability.yaml"))
    app = build_rest_app(runtime.rest[0], runtime.context)       # a Starlette app; serve it with uvicorn
    document = build_openapi(runtime.rest[0], runtime.context)   # its OpenAPI 3.1 description
"""

from .app import RestAdapter, RestApplication, build_rest_app
from .openapi import build_openapi
from .options import RestOptions

__all__ = ["RestAdapter", "RestApplication", "RestOptions", "build_openapi", "build_rest_app"]
