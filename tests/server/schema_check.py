#!/usr/bin/env python3
# schema_check: a time-bounded schemathesis run against the OpenAPI document llmt-server serves: no 5xx, documented statuses
"""Usage: schema_check.py SERVER_BINARY MODEL [SECONDS]"""
import json
import subprocess
import sys
import tempfile

from harness import Checks, Server


def main():
    server_bin, model = sys.argv[1:3]
    seconds = sys.argv[3] if len(sys.argv) > 3 else "60"
    key = "schema-key"
    # a small context: a generated max_tokens ends at the context's end
    srv = Server(server_bin, model, "-c", "128", "--parallel", "4", "--max-queue", "64", api_key=key)
    checks = Checks()

    def document():
        status, _, body = srv.request("GET", "/openapi.json")
        assert status == 200, status
        doc = json.loads(body)
        assert doc["openapi"].startswith("3.") and "/v1/chat/completions" in doc["paths"], doc.keys()

    def fuzz():
        cmd = ["schemathesis", "run", srv.url + "/openapi.json", "--checks",
               "not_a_server_error,status_code_conformance,content_type_conformance",
               "--max-time", seconds, "--max-examples", "40", "--request-timeout", "30", "--seed", "1",
               "--workers", "2", "-H", f"Authorization: Bearer {key}", "--suppress-health-check", "all",
               "--generation-deterministic"]
        work = tempfile.mkdtemp(prefix="llmt-schemathesis-")  # its example database stays out of the sources
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=int(seconds) + 300, cwd=work)
        tail = (out.stdout + out.stderr)[-6000:]
        print(tail, flush=True)
        assert out.returncode == 0, f"schemathesis exited {out.returncode}"

    checks.run("the OpenAPI document", document)
    checks.run("schemathesis: no server error, documented statuses and types", fuzz)
    checks.run("KV blocks all free after", srv.wait_kv_free, 30)
    checks.run("SIGTERM: exit 0", srv.stop)
    checks.finish()


if __name__ == "__main__":
    main()
