#!/usr/bin/env python3
# hostile_check: malformed and malicious HTTP against llmt-server over raw sockets: it answers 4xx or closes, never crashes
"""Usage: hostile_check.py SERVER_BINARY MODEL"""
import socket
import sys
import time

from harness import Checks, Server

TIMEOUT = 2  # the server's --timeout in seconds


def main():
    server_bin, model = sys.argv[1:3]
    srv = Server(server_bin, model, "--timeout", str(TIMEOUT), "--max-body", "65536", "-c", "256")
    checks = Checks()

    def exchange(raw, wait=10.0):
        """Sends raw bytes, returns what the server answers until it closes or goes quiet."""
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=wait)
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and (b"Content-Length: " in out or b"\r\n0\r\n\r\n" in out):
                    head, _, body = out.partition(b"\r\n\r\n")
                    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if length and len(body) >= length[0]:
                        break
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
        return out

    def status(out):
        if not out.startswith(b"HTTP/1.1 "):
            return None
        return int(out[9:12])

    def alive():
        code, _, body = srv.request("GET", "/health", timeout=10)
        assert code == 200, (code, body)

    def expect(raw, allowed, closed_ok=True):
        out = exchange(raw)
        code = status(out)
        assert code in allowed or (closed_ok and code is None), (raw[:80], out[:200])
        alive()

    def request_lines():
        expect(b"GARBAGE\r\n\r\n", {400})
        expect(b"GET\r\n\r\n", {400})
        expect(b"GET / HTTP/9.9\r\n\r\n", {400, 505, 200})
        expect(b"GET /health HTTP/1.1 extra\r\n\r\n", {400})
        expect(b"\x00\x01\x02\xff\xfe\r\n\r\n", {400})
        expect(b"FOO /health HTTP/1.1\r\nHost: x\r\n\r\n", {400, 404, 405})
        expect(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400, 414})
        expect(b"GET /%00%ff%0a HTTP/1.1\r\nHost: x\r\n\r\n", {400, 404})

    def huge_headers():
        expect(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n", {400, 431})
        # 760 KB of short header lines (cpp-httplib 0.11.4 limits each line, not their number)
        expect(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Many: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" * 20000 + b"\r\n",
               {200, 400, 431})
        expect(b"GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", {200, 400})

    def body_lies():
        post = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        expect(post + b"Content-Length: 99999999999\r\n\r\n{}", {400, 413})
        expect(post + b"Content-Length: -5\r\n\r\n{}", {400, 413})
        expect(post + b"Content-Length: abc\r\n\r\n{}", {400, 413})
        # announces 100 bytes, sends 10 and stalls: the read times out
        t = time.time()
        out = exchange(post + b"Content-Length: 100\r\n\r\n{\"prompt\":", wait=TIMEOUT + 10)
        assert status(out) in (None, 400, 408), out[:200]
        assert time.time() - t < TIMEOUT + 8
        alive()

    def chunked_lies():
        post = b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        expect(post + b"zz\r\n{}\r\n0\r\n\r\n", {400})
        expect(post + b"FFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n", {400, 413})
        expect(post + b"5\r\n{}\r\n0\r\n\r\n", {400})          # the chunk is shorter than it says
        expect(post + (b"1000\r\n" + b" " * 4096 + b"\r\n") * 40 + b"0\r\n\r\n", {400, 413})  # 160 KiB > --max-body
        expect(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"2\r\n{}\r\n0\r\n\r\n", {400})
        good = b'{"prompt": "Once", "max_tokens": 3}'
        out = exchange(post + hex(len(good))[2:].encode() + b"\r\n" + good + b"\r\n0\r\n\r\n")
        assert status(out) == 200, out[:300]  # an honest chunked body works

    def slowloris():
        # many connections that send part of a request head and stall: closed after --timeout, and the
        # server answers others meanwhile
        socks = []
        for i in range(40):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            socks.append(s)
        t = time.time()
        alive()
        assert time.time() - t < 2, "the server was slow to answer beside the stalled connections"
        closed = 0
        deadline = time.time() + TIMEOUT + 15
        for s in socks:
            s.settimeout(max(0.1, deadline - time.time()))
            try:
                data = s.recv(1024)
                closed += 1 if data == b"" or data.startswith(b"HTTP/1.1 4") else 0
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
            s.close()
        assert closed == len(socks), f"{closed} of {len(socks)} stalled connections were closed"
        alive()

    def idle_connections():
        # connections that never send a byte are closed too
        socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=30) for _ in range(20)]
        alive()
        time.sleep(0.1)
        for s in socks:
            s.settimeout(TIMEOUT + 15)
            try:
                assert s.recv(1) == b""
            except ConnectionResetError:
                pass
            s.close()

    for name, fn in [("malformed request lines", request_lines), ("huge headers", huge_headers), ("body length lies", body_lies),
                     ("chunked encoding lies", chunked_lies), ("slowloris: stalled heads closed after the timeout", slowloris),
                     ("idle connections closed", idle_connections)]:
        checks.run(name, fn)
    checks.run("KV blocks all free after", srv.wait_kv_free)
    checks.run("SIGTERM: exit 0", srv.stop)
    checks.finish()


if __name__ == "__main__":
    main()
