"""Render deploy/nginx.conf for a listen address and a list of replicas.

    python deploy/render_nginx.py --listen 0.0.0.0:8080 \\
        --replica 127.0.0.1:8501 --replica 127.0.0.1:8502 > /srv/descent-lab-nginx/nginx.conf

`{{listen}}` takes the listen address; the line holding `{{replica}}` is repeated once per
replica, in order.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

TEMPLATE = Path(__file__).resolve().with_name("nginx.conf")


def render(listen: str, replicas: Sequence[str], template: str | None = None) -> str:
    """The template with its placeholders filled in; ValueError if a placeholder is missing."""
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    if not replicas:
        raise ValueError("at least one replica is needed")
    lines = text.splitlines(keepends=True)
    replica_lines = [i for i, line in enumerate(lines) if "{{replica}}" in line]
    if len(replica_lines) != 1 or "{{listen}}" not in text:
        raise ValueError("the template needs one {{replica}} line and a {{listen}}")
    (index,) = replica_lines
    servers = [lines[index].replace("{{replica}}", replica) for replica in replicas]
    return "".join([*lines[:index], *servers, *lines[index + 1 :]]).replace("{{listen}}", listen)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the rendered configuration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="address:port nginx listens on")
    parser.add_argument(
        "--replica", action="append", required=True, help="host:port of a replica (repeat)"
    )
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.listen, args.replica))
    return 0


if __name__ == "__main__":
    sys.exit(main())
