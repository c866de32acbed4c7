"""An order workflow, run end to end on eventflow's embedded local service.

Two steps, a five-minute wait, a child context holding a step, and a step that fails once and is
retried. The local service runs on a virtual clock, so the wait and the retry delay take no real time.
Run it with ``python examples/order_workflow.py``.
"""

from __future__ import annotations

from typing import Any

from eventflow import DurableContext, StepContext, durable_execution, retry
from eventflow.local import LocalService
from eventflow.views import execution_tree, history_table


def charge_card(step: StepContext) -> str:
    # The payment provider times out on the first attempt; the retry succeeds.
    if step.attempt == 1:
        raise TimeoutError("payment provider timed out")
    return "ch_42"


@durable_execution
def place_order(event: dict[str, Any], ctx: DurableContext) -> dict[str, Any]:
    order_id = ctx.step(lambda _: f"order-{event['sku']}", name="create order")
    total = ctx.step(lambda _: event["quantity"] * 250, name="price order")
    ctx.wait(minutes=5, name="cooling-off period")

    def ship(child: DurableContext) -> str:
        return child.step(lambda _: f"parcel-for-{order_id}", name="book courier")

    parcel = ctx.child_context(ship, name="shipping")
    charge = ctx.step(
        charge_card, retry=retry.exponential(max_attempts=3, initial_delay=10, jitter=retry.Jitter.NONE)
    )
    return {"order": order_id, "total": total, "parcel": parcel, "charge": charge}


def main() -> None:
    service = LocalService()
    service.register("place-order", place_order)
    execution = service.start_execution("place-order", {"sku": "book", "quantity": 2})
    service.run(execution.arn)
    print(f"status: {execution.status.value} after {execution.invocations} invocations")
    print(f"result: {execution.result}")
    history = service.history(execution.arn)
    print(history_table(history))
    print()
    print(execution_tree(history))


if __name__ == "__main__":
    main()
