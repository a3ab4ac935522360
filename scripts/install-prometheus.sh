#!/usr/bin/env bash
# Builds Prometheus (server only; its web UI's assets are not in the Go module, its HTTP API is) into
# the same cache as FerretDB, for `npm run test:monitoring`. Prints the binary's path.
set -euo pipefail
version=v0.316.0 # the Go module's version of Prometheus 3.16.0
cache="${TOCK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tock}"
bin="$cache/prometheus-$version"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "install-prometheus: Go is needed to build Prometheus (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$cache"
echo "install-prometheus: building Prometheus $version into $cache with Go, once: 10-20 minutes on 2 cores" >&2
started=$SECONDS
( while sleep 30; do echo "install-prometheus: still compiling ($(( (SECONDS - started) / 60 )) min so far)" >&2; done ) &
heartbeat=$!
trap 'kill $heartbeat 2>/dev/null' EXIT
GOPATH="$cache/gopath" GOBIN="$cache/prometheus-build" GOTOOLCHAIN=local go install "github.com/prometheus/prometheus/cmd/prometheus@$version"
mv "$cache/prometheus-build/prometheus" "$bin"
echo "install-prometheus: done in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s" >&2
echo "$bin"
