"""The container image's HEALTHCHECK: is the ``naftiko serve`` in this container ready?

``naftiko serve`` writes where every adapter listens to its ready file (``NAFTIKO_READY_FILE``, set
by the image) once all of them accept requests. This reads it and asks the control adapter's
``/health/ready`` when the capability declares one (healthy on 200; 401/403 also count, since a
health check cannot hold the adapter's credentials and an answer proves the server is serving);
without a control adapter, healthy when every listed port accepts a connection. Exit 0 healthy,
1 not (yet). Standard library only: the image has no curl.

    python /opt/naftiko/healthcheck.py [READY_FILE]
"""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request

WILDCARDS = {"0.0.0.0", "::", ""}
TIMEOUT = 3.0


def local(host: str) -> str:
    if host in WILDCARDS or host == "localhost":
        return "127.0.0.1"
    return host


def check(ready_file: str) -> str | None:
    """None when healthy, else why not."""
    try:
        with open(ready_file, encoding="utf-8") as handle:
            listeners = json.load(handle)["listeners"]
    except FileNotFoundError:
        return f"{ready_file} not written yet: still starting"
    except (OSError, ValueError, KeyError) as exc:
        return f"{ready_file}: {exc}"
    control = next((item for item in listeners if item["type"] == "control"), None)
    if control is not None:
        host = local(control["host"])
        host = f"[{host}]" if ":" in host else host
        url = f"http://{host}:{control['port']}/health/ready"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
                return None if answer.status == 200 else f"{url}: {answer.status}"
        except urllib.error.HTTPError as exc:
            return None if exc.code in (401, 403) else f"{url}: {exc.code}"
        except OSError as exc:
            return f"{url}: {exc}"
    for item in listeners:
        try:
            socket.create_connection((local(item["host"]), item["port"]), timeout=TIMEOUT).close()
        except OSError as exc:
            return f"{item['type']} adapter on port {item['port']}: {exc}"
    return None


def main() -> int:
    ready_file = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NAFTIKO_READY_FILE", "")
    if not ready_file:
        print("unhealthy: no ready file (set NAFTIKO_READY_FILE)", file=sys.stderr)
        return 1
    problem = check(ready_file)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
