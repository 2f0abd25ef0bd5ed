"""``python -m simulator``: play a shift against a running suite and print what agreed.

Exit status 0 when Odoo ended as the plant expects, 1 when it did not, 2
when the run could not be played (no server, no backend, bad options).
"""

import argparse
import json
import sys
import time

import requests

from .odoo import OdooError
from .scenario import Counts
from .shift import Settings, play

# The options that are fields of ``Counts`` under the same name.
COUNT_OPTIONS = (
    "orders",
    "retries",
    "concurrent",
    "out_of_order",
    "mes_first",
    "downtimes",
    "holds",
    "bad",
    "breakdowns",
    "windows",
)


def arguments(argv):
    parser = argparse.ArgumentParser(
        prog="setup/simulate",
        description="Play a plant's shift (its MES and CMMS) against a running Odoo with the suite.",
    )
    server = parser.add_argument_group("the server")
    server.add_argument(
        "--url", default="http://127.0.0.1:8069", help="Odoo's address (default: %(default)s)"
    )
    server.add_argument("--db", default="integration_demo", help="database (default: %(default)s)")
    server.add_argument("--login", default="admin")
    server.add_argument("--password", default="admin")
    server.add_argument("--backend", default="plant-a-mes", help="MES backend code (default: %(default)s)")
    server.add_argument(
        "--create-backend", action="store_true", help="make the backend (on a plant of its own) when missing"
    )
    server.add_argument(
        "--cmms-backend",
        help="the plant's CMMS backend code (default: plant-a-cmms, or <backend>-cmms with --create-backend)",
    )
    shift = parser.add_argument_group("the shift")
    shift.add_argument("--orders", type=int, default=50, help="manufacturing orders (default: %(default)s)")
    shift.add_argument(
        "--shift-minutes", type=float, default=60, help="simulated length (default: %(default)s)"
    )
    shift.add_argument(
        "--minutes", type=float, default=4, help="real minutes to play it in (default: %(default)s)"
    )
    shift.add_argument("--seed", type=int, default=1, help="the same seed plays the same shift (default: 1)")
    shift.add_argument("--retries", type=int, help="events sent again (default: one per order)")
    shift.add_argument("--concurrent", type=int, help="of those, sent twice at once (default: a third)")
    shift.add_argument("--out-of-order", type=int, help="orders with two events swapped (default: 1 in 10)")
    shift.add_argument("--mes-first", type=int, help="orders keyed in at the plant first (default: 1 in 15)")
    shift.add_argument("--downtimes", type=int, help="machine stops while an order runs (default: 1 in 15)")
    shift.add_argument("--holds", type=int, help="orders put on quality hold (default: 1 in 15)")
    shift.add_argument(
        "--bad", type=int, default=0, help="deliberately bad events (unknown codes; default 0)"
    )
    shift.add_argument("--breakdowns", type=int, help="machines the CMMS reports down (default: 1 in 15)")
    shift.add_argument(
        "--windows", type=int, help="maintenance windows the CMMS approves after the shift (default: 1 in 15)"
    )
    run = parser.add_argument_group("the run")
    run.add_argument("--settle-timeout", type=float, default=300, help="seconds to wait for Odoo to settle")
    run.add_argument("--mes-port", type=int, default=0, help="port of the MES endpoint (default: a free one)")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser.parse_args(argv)


def main(argv=None):
    args = arguments(argv)
    started = time.monotonic()

    def say(line):
        if not args.quiet:
            print(f"[{time.monotonic() - started:6.1f} s] {line}", file=sys.stderr, flush=True)

    settings = Settings(
        url=args.url,
        database=args.db,
        login=args.login,
        password=args.password,
        backend=args.backend,
        create_backend=args.create_backend,
        cmms_backend=args.cmms_backend,
        counts=Counts(**{name: getattr(args, name) for name in COUNT_OPTIONS}),
        seed=args.seed,
        shift_minutes=args.shift_minutes,
        real_minutes=args.minutes,
        settle_timeout=args.settle_timeout,
        mes_port=args.mes_port,
        log=say,
    )
    try:
        summary = play(settings)
    except (OdooError, ValueError) as error:
        print(f"simulate: {error}", file=sys.stderr)
        return 2
    except requests.RequestException as error:
        print(f"simulate: cannot talk to database {args.db} at {args.url}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.text())
    return 0 if summary.agree else 1


if __name__ == "__main__":
    sys.exit(main())
