"""Order summaries: a projection of the order events, kept in memory and rebuilt at start."""

from __future__ import annotations

import asyncio

from shop_service.domain import ItemAdded, OrderConfirmed, OrderPlaced
from shop_service.messages import OrderSummary
from victor_core import Projection


class OrderSummaries(Projection):
    """Every order's summary, and a way to wait until it includes a given version."""

    def __init__(self) -> None:
        self.summaries: dict[str, OrderSummary] = {}
        self._changed = asyncio.Condition()

    async def reset(self) -> None:
        self.summaries.clear()

    async def handle_OrderPlaced(self, event: OrderPlaced) -> None:
        summary = OrderSummary(order_id=event.aggregate_id, customer_id=event.customer_id)
        await self._store(summary)

    async def handle_ItemAdded(self, event: ItemAdded) -> None:
        summary = self.summaries[event.aggregate_id]
        await self._store(
            summary.model_copy(
                update={
                    "items": summary.items + event.quantity,
                    "total": summary.total + event.quantity * event.unit_price,
                }
            )
        )

    async def handle_OrderConfirmed(self, event: OrderConfirmed) -> None:
        await self._store(self.summaries[event.aggregate_id].model_copy(update={"confirmed": True}))

    async def _store(self, summary: OrderSummary) -> None:
        # Each handled event of an order is one more version of it.
        self.summaries[summary.order_id] = summary.model_copy(
            update={"version": summary.version + 1}
        )
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, order_id: str, version: int, within: float) -> OrderSummary | None:
        """The summary of *order_id* once it includes *version*; None if not *within* seconds."""

        def caught_up() -> bool:
            summary = self.summaries.get(order_id)
            return summary is not None and summary.version >= version

        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(caught_up)
        except TimeoutError:
            return None
        return self.summaries[order_id]
