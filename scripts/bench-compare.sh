#!/usr/bin/env bash
# Compares this checkout's trtcd with an earlier revision in the same run, the
# way every change is held to "no more than 5 % worse": kick latency, server
# CPU per join and memory per client. Each server is driven by its own
# build's load tool (the metric names it reads may differ between versions;
# the clients it runs do the same work), in alternating rounds (old, new,
# new, old, old, new, ...), and
# the table gives the median of each figure, the ratio new/old of the
# medians, and the median of the rounds' own ratios ("paired").
#   scripts/bench-compare.sh [REV]          REV defaults to origin/main or main~1
#   ROUNDS=3 CLIENTS=5000 KICKS=2000 scripts/bench-compare.sh main
#   NEW_ENV="TRTCD_HISTORY=off" scripts/bench-compare.sh     the new server with a feature off
#   OLD_ENV=... likewise for the old server (REV=HEAD with OLD_ENV/NEW_ENV: one feature on vs off)
#   VERBOSE=1 ...                   also print every round's figure
#   DISMISS=10000 scripts/bench-compare.sh   also dismiss a room of 10 000 members (time to the last kick)
#   LOAD=new ...                    drive both servers with this checkout's load tool (default: each
#                                   build's own); then only the servers differ between the two runs.
#                                   Use it against a REV before cc2f934: an older tool reads the whole
#                                   of /metrics every 20-100 ms while it measures (with history or
#                                   callbacks on), which this one does not, and that costs the server CPU
#   CALLBACKS=1 ...                 the new server (only: for on vs off, REV=HEAD) sends app 1400000001's callbacks to a receiver this script
#                                   starts (trtcd callbacks listen) on the load tool's core at idle priority
#                                   (chrt --idle 0): it stands for the app's backend on another machine, so it
#                                   must not take the load tool's time while the tool measures kicks (at
#                                   normal priority it did, and the kicks' latency counted the receiver's work)
#   SIDE=1 ...                      side by side: in each round both servers run at once (both on core 0,
#                                   both load tools on core 1) and every phase of the two runs at the same
#                                   time, so a slow spell of a shared machine lands on both alike; the
#                                   paired ratios then move ±3 % between rounds instead of ±20 % (the
#                                   dismiss phase still runs one server at a time). The two share core 0,
#                                   so a build that spends more CPU also slows the other: use SIDE=1
#                                   for builds of like cost, the ABBA rounds for a feature on vs off
# Needs git, jq and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:-$(git rev-parse --verify -q origin/main || git rev-parse HEAD~1)}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-5000}
KICKS=${KICKS:-2000}
ADDR=${ADDR:-127.0.0.1:18081}
ADDR2=${ADDR2:-127.0.0.1:18082} # the new server's, side by side
# PIN=1 (the default on 2 or more cores, with taskset) runs the server on
# core 0 and the load tool on core 1: they no longer take turns on the same
# cores, which is most of the noise of a comparison on a small machine.
PIN_SERVER="" PIN_LOAD=""
if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER="taskset -c 0" PIN_LOAD="taskset -c 1"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git worktree add -q --detach "$work/old" "$REV"
(cd "$work/old" && go build -o "$work/trtcd-old" ./cmd/trtcd)
git worktree remove --force "$work/old"
go build -o "$work/trtcd-new" ./cmd/trtcd

servers=() # the servers running now
receiver=() # the callback receiver (CALLBACKS=1)
trap 'kill "${servers[@]}" "${receiver[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
if [ "${CALLBACKS:-0}" = 1 ]; then
  RECEIVER=${RECEIVER:-127.0.0.1:19000}
  idle=""
  command -v chrt >/dev/null && idle="chrt --idle 0"
  $idle $PIN_LOAD "$work/trtcd-new" callbacks listen --addr "$RECEIVER" >/dev/null 2>"$work/receiver.err" &
  receiver=($!)
  for _ in $(seq 50); do # up when it answers (401: an unsigned POST)
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$RECEIVER/" || true)" = 401 ] && break
    kill -0 "${receiver[0]}" 2>/dev/null || { cat "$work/receiver.err" >&2; exit 1; }
    sleep 0.1
  done
  NEW_ENV="${NEW_ENV:-} TRTCD_APP_1400000001_CALLBACK_URL=http://$RECEIVER/"
fi

start_server() { # label addr: the label's build, with its OLD_ENV/NEW_ENV, on addr
  local label=$1 addr=$2 extra=()
  [ "$label" = new ] && [ -n "${NEW_ENV:-}" ] && read -r -a extra <<<"$NEW_ENV"
  [ "$label" = old ] && [ -n "${OLD_ENV:-}" ] && read -r -a extra <<<"$OLD_ENV"
  env "${extra[@]}" TRTCD_LISTEN="$addr" TRTCD_DATA_DIR="$work/data-$label" TRTCD_LOG_LEVEL=warn TRTCD_IDLE_TIMEOUT=30s \
  TRTCD_RATE_LIMIT_RemoveUser=100000 $PIN_SERVER "$work/trtcd-$label" serve >/dev/null 2>&1 &
  servers+=($!)
  for _ in $(seq 50); do curl -sf "http://$addr/healthz" >/dev/null && break; sleep 0.2; done
}

stop_servers() {
  kill "${servers[@]}" 2>/dev/null || { echo "a server had exited (is $ADDR or $ADDR2 taken?)" >&2; exit 1; }
  wait "${servers[@]}" 2>/dev/null || true
  servers=()
}

phases=(clients kick)
[ "${DISMISS:-0}" -gt 0 ] && phases+=(dismiss)

run_phase() { # label addr phase round: one bench phase against the label's server
  local label=$1 addr=$2 phase=$3 round=$4 tool=$work/trtcd-$1 args=()
  [ "${LOAD:-own}" = new ] && tool=$work/trtcd-new
  case $phase in
  clients) args=(--clients "$CLIENTS" --rooms $((CLIENTS / 10)) --hold 3s) ;;
  kick) args=(--count "$KICKS" --rate 500) ;;
  dismiss) args=(--members "$DISMISS") ;;
  esac
  $PIN_LOAD "$tool" bench "$phase" --server "http://$addr" "${args[@]}" --sources 2 --baseline=false --json \
    2>"$work/$label-$phase-$round.err" >"$work/$label-$phase-$round.json" || { cat "$work/$label-$phase-$round.err" >&2; return 1; }
}

run_one() { # label round: the label's server alone, every phase
  local label=$1 round=$2 phase
  start_server "$label" "$ADDR"
  for phase in "${phases[@]}"; do
    run_phase "$label" "$ADDR" "$phase" "$round" || exit 1
  done
  stop_servers
}

# run_pair runs both servers at once and the clients and kick phases of the
# two at once; the dismiss phase (one burst of 10 000 kicks) runs one server
# at a time, the other idle. Odd rounds start old first, even rounds new
# first, and the two swap addresses, so neither build always has the head
# start or the same port.
run_pair() { # round
  local round=$1 l phase jobs order
  local -A addr
  if [ $((round % 2)) = 1 ]; then order=(old new) addr=([old]=$ADDR [new]=$ADDR2)
  else order=(new old) addr=([new]=$ADDR [old]=$ADDR2); fi
  for l in "${order[@]}"; do
    start_server "$l" "${addr[$l]}"
  done
  for phase in "${phases[@]}"; do
    jobs=()
    for l in "${order[@]}"; do
      if [ "$phase" = dismiss ]; then
        run_phase "$l" "${addr[$l]}" "$phase" "$round" || exit 1
      else
        run_phase "$l" "${addr[$l]}" "$phase" "$round" &
        jobs+=($!)
      fi
    done
    for j in "${jobs[@]}"; do
      wait "$j" || exit 1
    done
  done
  stop_servers
}
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS" >&2
  if [ "${SIDE:-0}" = 1 ]; then
    run_pair "$r"
  elif [ $((r % 2)) = 1 ]; then # ABBA: neither build always runs second
    run_one old "$r"
    run_one new "$r"
  else
    run_one new "$r"
    run_one old "$r"
  fi
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
fig() { # label kind jq-expression
  for f in "$work/$1-$2-"*.json; do jq -r "$3" "$f"; done | median
}
echo "# $(date -u +%FT%TZ) $(go version | cut -d' ' -f3) $(nproc) cores; old=$(git rev-parse --short "$REV") new=$(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty) old_env=[${OLD_ENV:-}] new_env=[${NEW_ENV:-}] pinned=[${PIN_SERVER:-no}] side_by_side=${SIDE:-0} load_tool=${LOAD:-own}; $ROUNDS rounds, medians"
printf '%-34s %12s %12s %8s %8s\n' figure old new new/old paired
# paired: the median over rounds of new/old within the round (the two runs of
# a round are next to each other in time, so a slow period of a shared
# machine lands on both), the figure to hold against "5 % worse".
paired() { # kind jq-expression
  for r in $(seq "$ROUNDS"); do
    echo "$(jq -r "$2" "$work/new-$1-$r.json") $(jq -r "$2" "$work/old-$1-$r.json")" | awk '{print ($2==0)?0:$1/$2}'
  done | median
}
row() {
  local o n
  o=$(fig old "$2" "$3"); n=$(fig new "$2" "$3")
  printf '%-34s %12.4g %12.4g %8.3f %8.3f\n' "$1" "$o" "$n" "$(echo "$n $o" | awk '{print ($2==0)?0:$1/$2}')" "$(paired "$2" "$3")"
  [ -n "${VERBOSE:-}" ] && for l in old new; do
    printf '    %s rounds: %s\n' "$l" "$(for r in $(seq "$ROUNDS"); do jq -r "$3" "$work/$l-$2-$r.json"; done | xargs printf '%.4g ')"
  done
  return 0
}
row "kick p50 (ms)" kick '.latency | to_entries[] | select(.key|startswith("kick")) | .value.p50_ms'
row "kick p99 (ms)" kick '.latency | to_entries[] | select(.key|startswith("kick")) | .value.p99_ms'
row "server CPU per join (ms)" clients '.figures.server_cpu_ms_per_join'
row "server bytes per client" clients '.figures.server_bytes_per_client'
row "join p50 (ms)" clients '.latency.join.p50_ms'
if [ "${DISMISS:-0}" -gt 0 ]; then
  row "dismiss $DISMISS: last kick (ms)" dismiss '.figures.last_kicked_ms'
  row "dismiss $DISMISS: server CPU (ms)" dismiss '.figures.server_cpu_ms'
fi
