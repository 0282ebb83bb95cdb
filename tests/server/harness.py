# harness: starts llmt-server on a free loopback port, waits for /health, stops it with SIGTERM (exit 0 expected)
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


class Server:
    """llmt-server on 127.0.0.1 and a port of its choosing (--port 0); its stderr is kept in .log."""

    def __init__(self, binary, model, *args, api_key=None):
        self.api_key = api_key
        cmd = [binary, "-m", model, "--port", "0", "-t", "1", *args]
        if api_key:
            cmd += ["--api-key", api_key]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        self.log = []
        self.port = None
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=pump, daemon=True)
        self.reader.start()
        if not ready.wait(60) or self.port is None:
            self.proc.kill()
            raise RuntimeError("llmt-server did not start:\n" + "".join(self.log))
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("llmt-server's /health did not say ok:\n" + "".join(self.log))

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, body bytes) of one request."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        if self.api_key:
            h["Authorization"] = "Bearer " + self.api_key
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def metrics(self):
        status, _, body = self.request("GET", "/metrics")
        assert status == 200, status
        out = {}
        for line in body.decode().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
        return out

    def wait_kv_free(self, timeout=10):
        """Waits until no KV block is used (every sequence gone); returns the metrics."""
        deadline = time.time() + timeout
        while True:
            m = self.metrics()
            if m["llmt_kv_blocks_used"] == 0 and m["llmt_requests_running"] == 0:
                return m
            if time.time() > deadline:
                raise AssertionError(f"KV blocks still used after {timeout} s: {m['llmt_kv_blocks_used']}, "
                                     f"running {m['llmt_requests_running']}")
            time.sleep(0.05)

    def stop(self, timeout=30):
        """SIGTERM; the server must exit 0 within timeout."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("llmt-server did not exit after SIGTERM:\n" + "".join(self.log[-20:]))
        self.reader.join(5)
        assert code == 0, f"llmt-server exited {code} after SIGTERM:\n" + "".join(self.log[-20:])


class Checks:
    """Named checks; prints 'N passed, N failed' at the end and exits 1 on a failure."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn, *args):
        t = time.time()
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 -- every failure is reported by name
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            import traceback
            traceback.print_exc()
        else:
            self.passed += 1
            print(f"ok   {name} ({time.time() - t:.2f} s)", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)
