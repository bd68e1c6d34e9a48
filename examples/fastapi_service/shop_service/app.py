"""The shop as a FastAPI service.

- The event store, the customer repository, the mediator and the projection runner are
  made once, in the app's lifespan, and closed when it ends.
- Each request sends one command or query through the mediator; each command handler
  commits one unit of work.
- A ``CommandResult`` becomes an HTTP status: 201 or 200 on success, 404 for something
  that does not exist, 409 for a lost race with another writer, 422 for a refused command.
- The read model is fed by a ``ProjectionRunner`` in a background task; a read names the
  version it must include (returned by the write), so a client reads its own writes.

Run it with ``victor-shop`` (or ``python -m shop_service``); ``SHOP_STORAGE_URL`` chooses the
storage (default: a named in-memory storage).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from shop_service.domain import Customer
from shop_service.handlers import NOT_FOUND, REFUSED, Shop
from shop_service.messages import (
    AddItem,
    ConfirmOrder,
    GetOrderSummary,
    OrderSummary,
    PlaceOrder,
    RegisterCustomer,
)
from shop_service.read_model import OrderSummaries
from victor_core import (
    CommandResult,
    ConcurrencyError,
    LoggingCommandMiddleware,
    Mediator,
    ProjectionRunner,
    StaleEntity,
    open_event_store,
    open_repository,
)

STATUS_FOR_REASON = {NOT_FOUND: 404, REFUSED: 422}


def create_app(storage_url: str | None = None, *, read_timeout: float = 5.0) -> FastAPI:
    """The service on *storage_url* (default: ``$SHOP_STORAGE_URL``, else ``memory://shop``).

    A read waits at most *read_timeout* seconds for the read model to include the version
    it asks for.
    """
    url = storage_url or os.environ.get("SHOP_STORAGE_URL") or "memory://shop"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_event_store(url)
        customers = open_repository(url, Customer)
        summaries = OrderSummaries()
        mediator = Mediator()
        mediator.command_bus.use(LoggingCommandMiddleware())
        Shop(store, customers, summaries, read_timeout=read_timeout).register(mediator)

        # The summaries live in memory: rebuild them from the events, then follow new ones
        # as they are appended (run_forever follows the store through a subscription).
        runner = ProjectionRunner(store, summaries, name="order-summaries")
        await runner.rebuild()
        following = asyncio.create_task(runner.run_forever())

        app.state.mediator = mediator
        try:
            yield
        finally:
            runner.stop()  # the batch in hand is handled and checkpointed first
            await following
            await customers.close()
            await store.close()

    app = FastAPI(title="victor shop", lifespan=lifespan)

    @app.exception_handler(ConcurrencyError)
    @app.exception_handler(StaleEntity)
    async def conflict(request: Request, exc: Exception) -> JSONResponse:
        # Another request changed the same order or customer first: nothing was written.
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    async def send(request: Request, command: Any) -> dict[str, Any]:
        result: CommandResult = await request.app.state.mediator.send(command)
        if result.success:
            return dict(result.data)
        reason = str((result.data or {}).get("reason"))
        status = STATUS_FOR_REASON.get(reason, 422 if result.problems else 500)
        raise HTTPException(status_code=status, detail=result.error)

    @app.post("/customers", status_code=201)
    async def register_customer(command: RegisterCustomer, request: Request) -> dict[str, Any]:
        return await send(request, command)

    @app.post("/orders", status_code=201)
    async def place_order(command: PlaceOrder, request: Request) -> dict[str, Any]:
        return await send(request, command)

    @app.post("/orders/{order_id}/items")
    async def add_item(order_id: str, command: AddItem, request: Request) -> dict[str, Any]:
        return await send(request, command.model_copy(update={"order_id": order_id}))

    @app.post("/orders/{order_id}/confirm")
    async def confirm_order(order_id: str, request: Request) -> dict[str, Any]:
        return await send(request, ConfirmOrder(order_id=order_id))

    @app.get("/orders/{order_id}")
    async def get_order(order_id: str, request: Request, version: int = 0) -> OrderSummary:
        query = GetOrderSummary(order_id=order_id, at_least_version=version)
        result = await request.app.state.mediator.send(query)
        if not result.success:
            raise HTTPException(status_code=404, detail=result.error)
        return result.data  # type: ignore[no-any-return]

    return app


app = create_app()
