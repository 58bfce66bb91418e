"""Catalog API entry point."""
from fastapi import FastAPI

from .routes import router

app = FastAPI(title="catalog")  # expect: global app FastAPI
app.include_router(router, prefix="/api")  # expect: global-call include_router prefix=/api


@app.get("/healthz")  # expect: http-route GET /healthz
def healthz():
    return {"status": "ok"}
