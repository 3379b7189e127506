"""Container health probe: `python -m tensorkart_core.healthcheck ADDR` exits 0 only when the gRPC
server at ADDR reports SERVING (grpc.health.v1), 1 otherwise.

Used by the images' HEALTHCHECK and by docker compose / Kubernetes exec probes. An empty
`--tls-ca` means plaintext, so one probe line works whether or not TLS is configured.
"""

from __future__ import annotations

import argparse
import os
import sys

from tensorkart_core.health import check


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tensorkart_core.healthcheck", description=__doc__)
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help="service name to ask about ('' = the whole server)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the answer")
    parser.add_argument("--tls-ca", default="", help="PEM CA to verify a TLS server with ('' = plaintext)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # make_channel takes the CA from the environment; this only affects the probe process.
    if args.tls_ca:
        os.environ["TENSORKART_TLS_CA"] = args.tls_ca
    else:
        os.environ.pop("TENSORKART_TLS_CA", None)
    status = check(args.address, args.service, timeout=args.timeout)
    print(f"{args.address}: {status}")
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
