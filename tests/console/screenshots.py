"""Draw the README's console screenshots: ``python -m tests.console.screenshots`` (needs Chromium).

Runs a few executions on a console server (one waiting on a callback, a 40-item map, a failed step), then
saves the executions list and an execution page as PNGs under docs/.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import sync_playwright

from .conftest import CHROMIUM_FLAGS, chromium_path
from .flows import console_server, open_callback

DOCS = Path(__file__).resolve().parents[2] / "docs"


def main() -> int:
    with console_server() as server, sync_playwright() as playwright:
        service = server.service
        failed = service.start_execution("flaky", {}, name="reserve-stock-17")
        service.wait_for(failed.arn, 30)
        fan = service.start_execution("fan_out", {"items": 40}, name="thumbnails-batch-3")
        service.wait_for(fan.arn, 30)
        waiting = service.start_execution("approve", {"order": 42}, name="order-42-approval")
        open_callback(service, waiting.arn)
        context = playwright.chromium.launch_persistent_context(
            tempfile.mkdtemp(),
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1100, "height": 560},
        )
        page = context.new_page()
        page.goto(server.url + "/")
        page.locator("#executions tr[data-arn]").first.wait_for()
        page.screenshot(path=str(DOCS / "console-list.png"))
        page.set_viewport_size({"width": 1100, "height": 900})
        page.goto(f"{server.url}/console/executions/{quote(fan.arn, safe='')}")
        page.locator("#timeline[data-rendered-ms]").wait_for()
        page.locator('#timeline .trow[data-label="root/1/3/1"]').click()
        page.locator("#events .event").first.wait_for()
        page.locator("#timeline").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, document.querySelector('h2').offsetTop + 260)")
        page.screenshot(path=str(DOCS / "console-execution.png"))
        context.close()
    print(f"wrote {DOCS / 'console-list.png'} and {DOCS / 'console-execution.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
