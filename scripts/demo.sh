#!/usr/bin/env bash
# Builds Vigil and its plugin agents (dummy, http) and runs `vigil demo`: a
# local cluster whose daemons serve gRPC over mutual TLS, a web service on
# it, the failover of that service when its node is killed. Arguments go
# to `vigil demo` (see
# `bin/vigil demo --help`), e.g. --dir DIR, --exit.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> go build -o bin/ ./cmd/... && go build -o bin/plugins/ ./plugins/..."
go build -o bin/ ./cmd/...
mkdir -p bin/plugins
go build -o bin/plugins/ ./plugins/dummy ./plugins/http
exec bin/vigil demo "$@"
