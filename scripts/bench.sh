#!/usr/bin/env bash
# Reproduces the load figures of docs/benchmarks.md: builds trtcd, starts one
# node on loopback with raised rate limits, and runs every `trtcd bench`
# subcommand against it (each beside its baseline where one applies).
#   CLIENTS=19000 KICKS=5000 MEMBERS=10000 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-19000}
KICKS=${KICKS:-5000}
MEMBERS=${MEMBERS:-10000}
ADDR=${ADDR:-127.0.0.1:18080}
bin=$(mktemp -d)/trtcd
go build -o "$bin" ./cmd/trtcd
TRTCD_LISTEN=$ADDR TRTCD_LOG_LEVEL=warn TRTCD_IDLE_TIMEOUT=30s \
TRTCD_RATE_LIMIT_RemoveUser=100000 TRTCD_RATE_LIMIT_DismissRoomByStrRoomId=1000 \
  "$bin" serve >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
sleep 1
if ! kill -0 $server 2>/dev/null || ! curl -sf "http://$ADDR/healthz" >/dev/null; then
  echo "the server did not start on $ADDR (is the port taken?)" >&2
  exit 1
fi
S=--server=http://$ADDR
echo "# $(date -u +%FT%TZ) $(go version) $(nproc) cores $(free -g | awk '/Mem:/{print $2}') GiB; ulimit -n $(ulimit -n)"
"$bin" bench clients $S --clients "$CLIENTS" --rooms $((CLIENTS / 10)) --sources 4 --hold 5s
"$bin" bench kick $S --count "$KICKS" --rate 1000 --sources 2
"$bin" bench dismiss $S --members "$MEMBERS" --sources 2
"$bin" bench api $S --duration 10s --concurrency 16
