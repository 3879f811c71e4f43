"""``python -m fillpath.lab.aggregator --config FILE [--host H] [--port N] [--profile NAME[:k=v,...]]...``: serve the
lab aggregator until SIGTERM/SIGINT; prints its URL first (``fillpath lab up`` starts it this way)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from fillpath.lab.aggregator.faults import parse
from fillpath.lab.aggregator.routing import ServiceConfig
from fillpath.lab.aggregator.service import AggregatorServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fillpath.lab.aggregator", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="the service's JSON (lab up writes it)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--profile", action="append", default=[], help="a fault: NAME or NAME:key=value,...")
    args = parser.parse_args(argv)
    cfg = ServiceConfig.read(args.config)
    faults = [parse(p) for p in args.profile]

    async def serve() -> None:
        server = AggregatorServer(cfg, host=args.host, port=args.port)
        server.service.set_faults({f.name: dict(f.params) for f in faults})
        url = await server.start()
        print(f"{url} chain={cfg.chain_id} profiles={','.join(f.name for f in faults) or '-'}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.stop()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
