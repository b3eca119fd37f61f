"""The app factory: wiring, worker pool lifecycle, routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ._api import build_router, install_errors, install_metrics_middleware
from ._context import Context
from ._pipeline import Pipeline
from ._settings import StudioSettings
from ._worker import WorkerPool


def create_app(settings: StudioSettings | None = None) -> FastAPI:
    """A studio app; its workers start with the app's lifespan and stop with it."""
    ctx = Context(settings or StudioSettings())
    pool = WorkerPool(ctx, Pipeline(ctx))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # blocking clients (chromadb, gradio_client) run in threads: one render per worker may
        # hold a thread for minutes, so size the pool for them plus the short calls beside them
        threads = ThreadPoolExecutor(ctx.settings.workers + 8, thread_name_prefix="studio")
        asyncio.get_running_loop().set_default_executor(threads)
        pool.start()
        try:
            yield
        finally:
            await pool.stop()
            await ctx.backends.close()
            threads.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="Studio", lifespan=lifespan)
    app.state.ctx = ctx
    app.state.workers = pool
    install_errors(app)
    install_metrics_middleware(app)
    app.include_router(build_router())
    return app
