"""A headless Chromium (Debian chromium) driven over its DevTools protocol: load a page, wait for
a condition in it, move the mouse, click, read the DOM, save a screenshot. For the nfmd page
tests; python3-websocket talks the protocol."""
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websocket

from fleet_nfmd import free_port


class Browser:
    def __init__(self, width=1280, height=800):
        exe = shutil.which("chromium")
        if not exe:
            raise AssertionError("chromium missing (apt-get install chromium; lab/deps.txt)")
        self.profile = tempfile.mkdtemp(prefix="nfm-chromium-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--user-data-dir=" + self.profile,
             "--remote-debugging-port=%d" % self.port, "--window-size=%d,%d" % (width, height),
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port,
                                            timeout=5) as r:
                    pages = [p for p in json.load(r) if p.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise AssertionError("chromium's DevTools did not come up")
            time.sleep(0.3)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise AssertionError("%s: %s" % (method, m["error"]))
                return m.get("result", {})

    def js(self, expr):
        """The value of a JavaScript expression in the page (awaited, returned by value)."""
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def load(self, url):
        self.call("Page.enable")
        self.call("Page.navigate", url=url)

    def wait(self, expr, timeout=60, what=None):
        deadline = time.monotonic() + timeout
        while True:
            try:
                v = self.js(expr)
            except AssertionError:
                v = None
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("the page never had %s" % (what or expr))
            time.sleep(0.3)

    def mouse(self, selector, click=False):
        """Moves the mouse onto the centre of the element (and clicks)."""
        x, y = self.js("(() => { const r = document.querySelector(%s).getBoundingClientRect();"
                       " return [r.x + r.width / 2, r.y + r.height / 2]; })()" % json.dumps(selector))
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        if click:
            for t in ("mousePressed", "mouseReleased"):
                self.call("Input.dispatchMouseEvent", type=t, x=x, y=y, button="left", clickCount=1)

    def dom(self):
        return self.js("document.documentElement.outerHTML")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

