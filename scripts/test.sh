#!/usr/bin/env bash
# Installs what the test suite needs (Docker engine, registry, skopeo, qemu, Python test deps), starts
# the engine if it is not answering, and runs the suite. The README's test command and CI both run this.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v skopeo >/dev/null || missing+=(skopeo)
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
[ -e /usr/bin/qemu-aarch64-static ] || missing+=(qemu-user-static binfmt-support)
command -v busybox >/dev/null || missing+=(busybox-static)      # shell of the test's Go builder image
command -v chromium >/dev/null || missing+=(chromium)           # renders slimgo compare's HTML report
command -v curl >/dev/null || missing+=(curl)
[ -e /lib/ld-musl-x86_64.so.1 ] || missing+=(musl)            # the musl base of inspect's "will not start" test
command -v gcc >/dev/null || missing+=(gcc libc6-dev)           # cgo Dockerfile test: host probe, stand-in builder
command -v umoci >/dev/null || missing+=(umoci)                 # a second OCI layer unpacker to compare with
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || missing+=(runc)  # buildkitd's OCI worker (build --builder)
# UPX is never bundled: tests use $SLIMGO_UPX, `upx` on PATH, or ../shared/tools/upx/upx; Debian trixie and
# Ubuntu package it as upx-ucl (bookworm does not).
if ! command -v upx >/dev/null && [ -z "${SLIMGO_UPX:-}" ] && [ ! -x ../shared/tools/upx/upx ] \
   && apt-cache show upx-ucl >/dev/null 2>&1; then missing+=(upx-ucl); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}" >/dev/null
fi

# Go programs from the module proxy: crane reads the SBOM/provenance referrers back as an independent OCI
# client; cosign verifies `build --sign-key`'s signatures and attestations; syft's scan is compared with
# slimgo's SBOM. A cold syft build takes minutes on 2 cores (the Go caches keep it for the next run).
go_tool() {  # NAME MODULE@VERSION
  if ! command -v "$1" >/dev/null && [ ! -x "$(go env GOPATH)/bin/$1" ]; then
    echo "installing $1" >&2
    go install "$2"
  fi
}
go_tool crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
go_tool cosign github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
go_tool syft github.com/anchore/syft/cmd/syft@v1.57.1

# BuildKit's daemon and client for `build --builder`'s tests, from the Go module proxy. `go install …@v` refuses
# it (its go.mod has exclude directives), so build it in the module's download directory.
gobin="$(go env GOPATH)/bin"
if { ! command -v buildkitd >/dev/null && [ ! -x "$gobin/buildkitd" ]; } || \
   { ! command -v buildctl >/dev/null && [ ! -x "$gobin/buildctl" ]; }; then
  echo "installing buildkitd and buildctl" >&2
  bkdir="$(go mod download -json github.com/moby/buildkit@v0.34.2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  mkdir -p "$gobin"
  (cd "$bkdir" && GOFLAGS=-mod=mod go build -o "$gobin/" ./cmd/buildkitd ./cmd/buildctl)
fi

# Debian's registry package starts its own service on :5000 on some systems; tests run their own.
if ! /usr/bin/docker info >/dev/null 2>&1; then
  echo "starting dockerd" >&2
  as_root sh -c 'nohup dockerd >/tmp/slimgo-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 1; done
  /usr/bin/docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/slimgo-dockerd.log" >&2; exit 1; }
fi

# arm64 binaries and containers through qemu (binfmt_misc may need mounting in a container).
if [ -d /proc/sys/fs/binfmt_misc ] && [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
fi
as_root update-binfmts --enable qemu-aarch64 2>/dev/null || true

# dive, the oracle for slimgo inspect's waste numbers (built from the Go module proxy, ~1 min cold).
if command -v go >/dev/null && ! command -v dive >/dev/null && [ ! -x "$(go env GOPATH)/bin/dive" ]; then
  echo "installing dive" >&2
  go install github.com/wagoodman/dive@v0.13.1 || echo "dive could not be installed" >&2
fi

python3 -m pip install -q -e '.[test]' 2>&1 | grep -v -e "Running pip as the 'root' user" -e "notice" || true
# Static checks first: they take seconds and catch what a long run would only find late.
python3 -m ruff check src tests
python3 -m mypy
export SLIMGO_REQUIRE_REAL_PARTS=1
if [ $# -gt 0 ]; then exec python3 -m pytest -n 2 "$@"; fi
# The fast tier first (in-process, no real parts), then the integration tier.
python3 -m pytest -q tests/unit
exec python3 -m pytest -n 2 -m integration tests/integration
