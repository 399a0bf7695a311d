"""netplay's server as ``netplay serve`` runs it (``netplay.server.app.run``), with chosen limits lifted.

    python bench/netplay_server.py --port P [--set rate_limit=0] [--set max_connections=25000]

``netplay serve`` has no flags yet for the per-connection rate limit or the connection cap, which a
saturation run and 20,000 idle connections go past by design; ``--set`` changes any ServerConfig field.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys

from netplay.games import builtin_games
from netplay.server import ServerConfig
from netplay.server.app import Server, run


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``field=value`` pairs (values as JSON, else strings) checked against ServerConfig's fields."""
    known = {f.name for f in dataclasses.fields(ServerConfig)}
    overrides: dict[str, object] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in known:
            raise SystemExit(f"ServerConfig has no field {name!r}")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    return overrides


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM; print one line with the port once listening."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The load generator opens every connection from one address (127.0.0.1), as no crowd of
    # players does: the per-address connection limit (256) is lifted unless --set says otherwise.
    overrides = {"max_connections_per_address": 0, **parse_overrides(args.set)}
    config = ServerConfig(host=args.host, port=args.port, **overrides)  # type: ignore[arg-type]

    def ready(server: Server) -> None:
        print(f"netplay serving on {args.host}:{server.port}", flush=True)

    run(config, builtin_games().values(), on_ready=ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
