#!/usr/bin/env bash
# The whole test suite, on a fresh machine with Go. It provides what the
# tests need: a throwaway redis-server on a free port and a throwaway
# PostgreSQL (scripts/postgres.sh), installed with apt-get when missing and
# running as root.
#
#   scripts/test.sh            everything (vet, race tests, short fuzzing, SDK module,
#                              public packages from another module)
#   FUZZTIME=0 scripts/test.sh skip the fuzzing step
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-3s}

# --- Redis for the cluster tests -------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing redis-server"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
  fi
fi
if command -v redis-server >/dev/null 2>&1; then
  export TRTCD_TEST_REDIS_SERVER=$(command -v redis-server)
elif [ "${CI:-}" = "true" ]; then
  echo "redis-server is required in CI and could not be installed" >&2
  exit 1
else
  echo "warning: no redis-server; cluster tests will be skipped" >&2
fi

# --- Chromium for the browser tests (internal/webui) ------------------------
if [ -z "${TRTCD_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  fi
fi
if [ -n "${TRTCD_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  :
elif [ "${CI:-}" = "true" ]; then
  echo "chromium is required in CI and could not be installed" >&2
  exit 1
else
  echo "warning: no chromium; the browser tests will be skipped" >&2
fi

# --- PostgreSQL for the history tests ---------------------------------------
. scripts/postgres.sh
trap stop_throwaway_postgres EXIT
if ! start_throwaway_postgres; then
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL (initdb) is required in CI and could not be installed" >&2
    exit 1
  fi
  echo "warning: no PostgreSQL (initdb); the PostgreSQL history tests will be skipped" >&2
fi

echo "== go vet"
go vet ./...

echo "== unformatted files"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

if [ "$FUZZTIME" != "0" ]; then
  echo "== fuzzing, $FUZZTIME per target"
  # A failing input is always saved under $pkg/testdata/fuzz/$target and
  # fails the run. A failure that saved none is the fuzzing engine itself
  # (on a loaded machine a worker can miss the coordinator's deadline): it is
  # shown and the target is run once more.
  fuzz() { go test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" "$1" >"$fuzzlog" 2>&1; }
  fuzzlog=$(mktemp)
  while read -r pkg target; do
    before=$(ls "$pkg/testdata/fuzz/$target" 2>/dev/null | wc -l || true)
    if ! fuzz "$pkg" "$target"; then
      cat "$fuzzlog"
      if [ "$(ls "$pkg/testdata/fuzz/$target" 2>/dev/null | wc -l || true)" != "$before" ]; then
        echo "FAIL $pkg $target: a failing input was saved in $pkg/testdata/fuzz/$target" >&2
        exit 1
      fi
      echo "== $pkg $target: the fuzzing engine failed without a failing input; once more"
      fuzz "$pkg" "$target" || { cat "$fuzzlog"; exit 1; }
    fi
    echo "ok   $pkg $target"
  done <<'TARGETS'
./internal/cloudapi FuzzReadRequest
./internal/cloudapi FuzzTC3Authorization
./internal/cloudapi FuzzV1Verify
./internal/cloudapi FuzzParamShape
./usersig FuzzVerify
./usersig FuzzParseUserbuf
./internal/config FuzzLoadFile
./client/media/wire FuzzDecode
./internal/media FuzzCheckOffer
./internal/media FuzzCheckCandidate
./internal/eventlog FuzzDecodeFields
./protocol FuzzDecodeFrame
./internal/joinauth FuzzAuthorize
./internal/callbacks FuzzRender
./internal/callbacks FuzzReadAnswer
./internal/console FuzzParseSignIn
./internal/console FuzzParseCall
./internal/console FuzzParseRoom
./internal/console FuzzParseReplay
./internal/console FuzzParseHistoryQuery
./internal/rooms FuzzParseKey
./internal/node FuzzDecodeRelay
TARGETS
fi

echo "== SDK compatibility module (tencentcloud-sdk-go/tencentcloud/common v1.3.211)"
(cd tests/sdkcommon && go test -count=1 ./...)

echo "== the public packages from another module (tests/external: client, protocol, usersig)"
(cd tests/external && go vet ./... && go test -race -count=1 ./...)

echo "== the browser SDK (web/sdk): syntax, and the npm package's files"
if command -v node >/dev/null 2>&1; then
  node --check web/sdk/trtcd.js
  node --check web/demo/demo.js
  if command -v npm >/dev/null 2>&1; then
    files=$(cd web/sdk && npm pack --dry-run --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].files.map(f=>f.path).sort().join(" ")))')
    if [ "$files" != "README.md package.json trtcd.d.ts trtcd.js" ]; then
      echo "npm pack in web/sdk would pack: $files" >&2; exit 1
    fi
    echo "ok   npm pack: $files"
  fi
else
  echo "warning: no node; the SDK's syntax check is skipped" >&2
fi

echo "all tests passed"
