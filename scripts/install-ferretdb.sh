#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (the MongoDB-compatible server used by the embedded default, tests and
# benchmarks) into a cache outside the clone, so later runs reuse it. Prints the binary's path.
# `go install ...@v1.24.2` does not work here (the proxy refuses its deprecation look-up) and a plain
# module build panics without build/version/version.txt, hence the copy-and-stamp build below.
set -euo pipefail
version=v1.24.2
cache="${TOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tock}"
bin="$cache/ferretdb-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "install-ferretdb: Go is needed to build FerretDB $version (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$cache"
echo "install-ferretdb: building FerretDB $version into $cache with Go, once: 2-5 minutes (longer on a busy machine)" >&2
export GOFLAGS=-mod=mod GOPATH="$cache/gopath" GOTOOLCHAIN=local
dir=$(go mod download -json "github.com/FerretDB/FerretDB@$version" | node -pe 'JSON.parse(require("fs").readFileSync(0)).Dir')
src=$(mktemp -d)
trap 'chmod -R u+w "$src" 2>/dev/null; rm -rf "$src"' EXIT
cp -r "$dir/." "$src"
chmod -R u+w "$src"
echo "$version" > "$src/build/version/version.txt"
# The compile prints nothing for minutes: say that it is still going.
started=$SECONDS
( while sleep 20; do echo "install-ferretdb: still compiling ($(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s so far)" >&2; done ) &
heartbeat=$!
trap 'kill $heartbeat 2>/dev/null; chmod -R u+w "$src" 2>/dev/null; rm -rf "$src"' EXIT
(cd "$src" && go build -o "$bin.tmp" ./cmd/ferretdb)
kill $heartbeat 2>/dev/null
mv "$bin.tmp" "$bin"
echo "install-ferretdb: done in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s" >&2
echo "$bin"
