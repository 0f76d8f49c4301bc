"""Opens a tenure HTML report in headless Chromium through the DevTools protocol and checks it.

Usage: browser_check.py CHROMIUM REPORT.html REPORT.json SHOT_PREFIX

- the page loads with no console error, no script exception and no request but the page itself;
- every retention heatmap has one cell per cohort row and column (and one per column in its
  average row), each cell's value and text equal the JSON report's rate, and a cell is styled as
  incomplete exactly when some member's period is not over (its dashed, hatched overlay drawn);
- every metric of the JSON report has its section, and no section reports a failure the JSON
  does not;
- screenshots at 1280x800 and 390x844 are written to SHOT_PREFIX-desktop.png and
  SHOT_PREFIX-phone.png, and neither is blank (the variance of their pixels is not near zero).
"""
import base64
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import websocket
from PIL import Image, ImageStat

chromium, page_path, json_path, shot_prefix = sys.argv[1:5]
report = json.load(open(json_path))
page_url = "file://" + os.path.abspath(page_path)
failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message)


profile = tempfile.mkdtemp(prefix="tenure-chromium-")
browser = subprocess.Popen(
    [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
     "--no-default-browser-check", "--disable-extensions", "--remote-debugging-port=0",
     f"--user-data-dir={profile}", "about:blank"],
    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


class Session:
    """One page target over the browser's DevTools websocket (flat session mode)."""

    def __init__(self, url):
        self.socket = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and hasattr(self, "session"):
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.socket.recv()))
        raise TimeoutError(method)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"]["value"]

    def screenshot(self, width, height, mobile, path):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        self.evaluate("window.scrollTo(0, 0); document.body.offsetHeight")
        time.sleep(0.3)
        data = base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])
        with open(path, "wb") as file:
            file.write(data)
        image = Image.open(io.BytesIO(data)).convert("L")
        spread = ImageStat.Stat(image).stddev[0]
        if image.size != (width, height):
            fail(f"screenshot {path} is {image.size}, not {width}x{height}")
        if spread < 5:
            fail(f"screenshot {path} looks blank (standard deviation of its pixels {spread:.1f})")
        print(f"screenshot {path}: {width}x{height}, pixel standard deviation {spread:.1f}")


try:
    address = None
    for line in browser.stderr:
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            address = found.group(1)
            break
    if not address:
        sys.exit("chromium did not open its DevTools port")
    page = Session(address)
    for domain in ("Page", "Runtime", "Log", "Network"):
        page.call(f"{domain}.enable")
    page.call("Page.navigate", {"url": page_url})
    page.wait_for("Page.loadEventFired")
    page.evaluate("document.readyState")

    # Console errors, exceptions and requests, as the browser reported them while loading.
    for event in page.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            fail(f"console error: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            fail(f"script exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            fail(f"browser error: {params['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url != page_url and not url.startswith("data:"):
                fail(f"network request: {url}")

    sections = page.evaluate("""[...document.querySelectorAll('section.metric')].map(s => ({
        metric: s.dataset.metric,
        failed: [...s.querySelectorAll('.failed')].some(p => p.textContent.startsWith('Not computed')),
        heatmaps: [...s.querySelectorAll('svg.heatmap')].map(svg => [...svg.querySelectorAll('g.cell')].map(g => {
            const overlay = g.querySelectorAll('rect')[1];
            return {row: +g.dataset.row, column: +g.dataset.column, value: g.dataset.value,
                    text: g.querySelector('text').textContent, incomplete: g.classList.contains('incomplete'),
                    dashed: overlay ? getComputedStyle(overlay).strokeDasharray : 'none',
                    fill: overlay ? getComputedStyle(overlay).fill : 'none'};
        }))
    }))""")
    by_name = {s["metric"]: s for s in sections}
    for name, result in report["metrics"].items():
        section = by_name.get(name)
        if section is None:
            fail(f"{name}: no section in the page")
            continue
        if section["failed"] != ("error" in result and set(result) <= {"type", "error"}):
            fail(f"{name}: the page and the JSON disagree on whether it failed")
        if result.get("type") != "retention":
            continue
        heatmap = section["heatmaps"][0] if section["heatmaps"] else []
        columns = len(result["total"]["rate"])
        rows = result["cohorts"]
        if len(heatmap) != (len(rows) + 1) * columns:
            fail(f"{name}: {len(heatmap)} heatmap cells, expected {(len(rows) + 1) * columns} "
                 f"({len(rows)} cohort rows and the average, {columns} columns)")
            continue
        cells = {(c["row"], c["column"]): c for c in heatmap}
        incomplete = 0
        for r, row in enumerate(rows + [None]):
            for k in range(columns):
                cell = cells[(r, k)]
                rate = (row or result["total"])["rate"][k]
                if rate is None:
                    if cell["value"] != "" or cell["text"] not in ("·", ""):
                        fail(f"{name} row {r} column {k}: empty in JSON, {cell['value']!r} in the page")
                    continue
                if cell["value"] == "" or abs(float(cell["value"]) - rate) > 1e-12:
                    fail(f"{name} row {r} column {k}: JSON {rate}, page {cell['value']!r}")
                if cell["text"] != f"{rate * 100:.1f}%":
                    fail(f"{name} row {r} column {k}: text {cell['text']!r} for rate {rate}")
                expect_incomplete = row is not None and row["eligible"][k] != row["size"]
                if cell["incomplete"] != expect_incomplete:
                    fail(f"{name} row {r} column {k}: incomplete is {cell['incomplete']}, expected {expect_incomplete}")
                if expect_incomplete:
                    incomplete += 1
                    if cell["dashed"] in ("none", "") or "url(" not in cell["fill"]:
                        fail(f"{name} row {r} column {k}: an incomplete cell drawn without its dashed, hatched overlay")
        print(f"ok {name}: {len(heatmap)} heatmap cells equal the JSON, {incomplete} styled incomplete")

    page.screenshot(1280, 800, False, f"{shot_prefix}-desktop.png")
    page.screenshot(390, 844, True, f"{shot_prefix}-phone.png")
finally:
    browser.kill()
    browser.wait()
    subprocess.run(["rm", "-rf", profile])

if failures:
    sys.exit(f"browser check of {page_path}: {len(failures)} failure(s)")
print(f"browser check of {page_path}: ok")
