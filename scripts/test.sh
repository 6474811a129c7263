#!/usr/bin/env bash
# Runs every check and test of Vigil: what CI runs (.ci/run calls this).
# Installs what the tests need (Debian packages) when run as root or with
# sudo; the Go tools (buf, grpcurl, protoc plugins) are pinned in go.mod and
# run with `go tool`, so nothing is installed globally.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: systemd-analyze (unit checks), nft (cutting
# links between the nodes of a local cluster, as root), the real OCF agents
# the executor runs (resource-agents, pacemaker-resource-agents) and ip
# (network namespaces for IPaddr2), and the fence agents vigil-fenced bridges
# to (fence-agents).
# crm_verify (pacemaker-cli-utils) checks the CIBs vigil configure writes.
debian_packages=(systemd nftables resource-agents pacemaker-resource-agents iproute2 fence-agents pacemaker-cli-utils python3)

install_debian_packages() {
	local missing=()
	for p in "${debian_packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null; then sudo="sudo"; else
			echo "test.sh: missing Debian packages ${missing[*]} and not root: some tests will skip" >&2
			return 0
		fi
	fi
	echo "==> installing Debian packages: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

step() { echo; echo "==> $*"; }

if command -v dpkg-query >/dev/null; then install_debian_packages; fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-formatted:"; echo "$unformatted"; exit 1; fi

step "go vet ./..."
go vet ./...

step "buf lint"
go tool buf lint

step "generated code is up to date (go tool buf generate)"
if git rev-parse --git-dir >/dev/null 2>&1; then
	go tool buf generate
	if ! git diff --quiet -- proto; then
		git --no-pager diff --stat -- proto
		echo "generated code differs from the committed *.pb.go: run 'go tool buf generate' and commit" >&2
		exit 1
	fi
fi

step "fuzz every parser and decoder briefly"
# A count, not a duration: with a wall-clock -fuzztime, Go's fuzzing
# coordinator can fail a target with a bare "context deadline exceeded" when
# its deadline races a worker still executing on a busy machine (no crasher
# is written; CI failed that way on FuzzPatch). A count has no deadline.
fuzztime=${FUZZTIME:-20000x}
for pkg in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
	done
done

step "go test -race ./..."
go test -race -count=1 -timeout 30m ./...
