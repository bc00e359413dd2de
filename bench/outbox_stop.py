"""How a stopped send stops: `send_batch` cancelled at a random moment while it sends.

A local aiosmtpd server (a Sink, in another process) receives e-mails of about 120 KB over
the outbox's connections; each run cancels the batch after 50 to 200 ms, as SIGTERM does to
`messagerie outbox`. Prints how many outcomes were recorded after the cancel (at most one per
connection in flight is expected) and how long the stop took. Not a test.

    python bench/outbox_stop.py [--runs 60] [--connections 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from sink import smtp_sink  # bench/ is this script's folder

from messagerie.letters.mail.transport import CONNECTIONS, Envelope, Relay, send_batch

BODY = b"Subject: essai\r\n\r\n" + (b"x" * 60 + b"\r\n") * 2000


async def one_stop(relay: Relay, connections: int, after: float) -> tuple[int, float]:
    """Outcomes recorded after the cancel, and the seconds the batch took to end."""
    envelopes = (
        Envelope(n, "envoi@acheteur.example", f"r{n}@entreprise.example", BODY, f"essai-{n}")
        for n in range(400)
    )
    recorded: list[object] = []
    sending = asyncio.create_task(
        send_batch(relay, envelopes, recorded.append, connections=connections)
    )
    await asyncio.sleep(after)
    at_cancel, cancelled_at = len(recorded), time.monotonic()
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    return len(recorded) - at_cancel, time.monotonic() - cancelled_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    args = parser.parse_args()
    moments = random.Random(20261203)
    with smtp_sink() as port:
        relay = Relay("127.0.0.1", port, timeout=5)
        results = [
            asyncio.run(one_stop(relay, args.connections, moments.uniform(0.05, 0.2)))
            for _ in range(args.runs)
        ]
    sent_on = [count for count, _ in results]
    stops = sorted(seconds for _, seconds in results)
    print(
        f"{args.runs} stops over {args.connections} connections: outcomes after the stop "
        f"max {max(sent_on)}, runs with more than {args.connections}: "
        f"{sum(count > args.connections for count in sent_on)}; time to stop median "
        f"{stops[len(stops) // 2] * 1000:.0f} ms, max {stops[-1]:.2f} s "
        f"(relay timeout 5 s), over 1 s: {sum(seconds > 1 for seconds in stops)}"
    )


if __name__ == "__main__":
    main()
