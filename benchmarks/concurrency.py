"""The openai backend's request rate at llm.concurrency=32 vs 1, against the local OpenAI-compatible
test server answering every request after a fixed delay (200 ms by default).

    .venv/bin/python benchmarks/concurrency.py [--delay 0.2] [--requests 320]

Ideal ratio: 32x (the delay dominates); the 2-core machine caps client + server near 650 req/s
(measured with AsyncOpenAI against a local server), far above 32 / 0.2 s = 160 req/s.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers.openai_server import OpenAITestServer  # noqa: E402
from tuneforge.llm.openai import OpenAIBackend  # noqa: E402


def rate(server: OpenAITestServer, concurrency: int, n: int) -> float:
    llm = OpenAIBackend(base_url=server.base_url, model="bench", concurrency=concurrency, timeout=30)
    llm.generate(["warm-up"])
    start = time.perf_counter()
    out = llm.generate([f"prompt {i}" for i in range(n)])
    elapsed = time.perf_counter() - start
    llm.close()
    assert all(c.ok for c in out) and llm.stats.failures == 0
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=320)
    parser.add_argument("--serial-requests", type=int, default=20)
    args = parser.parse_args()
    with OpenAITestServer(reply=lambda req: "ok", delay=args.delay) as server:
        one = rate(server, 1, args.serial_requests)
        many = rate(server, 32, args.requests)
    print(f"server delay {args.delay * 1000:.0f} ms per request")
    print(f"concurrency  1: {one:7.1f} req/s ({args.serial_requests} requests)")
    print(f"concurrency 32: {many:7.1f} req/s ({args.requests} requests)")
    print(f"ratio: {many / one:.1f}x (target >= 25x, ideal 32x)")


if __name__ == "__main__":
    main()
