#!/usr/bin/env bash
# Regenerates the UserSig test vectors with the official npm package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/gen.js" "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund >/dev/null)
node "$work/gen.js" > "$here/../../usersig/testdata/node-vectors.json"
echo "wrote usersig/testdata/node-vectors.json"
