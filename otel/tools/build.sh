#!/usr/bin/env bash
# Builds Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger, at the version this folder's go.mod pins) from
# its Go module, and prints the binary's path. One binary serves both roles in this stack: the OpenTelemetry
# Collector running otel/collector.yaml (it includes every component that file uses) and Jaeger running
# otel/jaeger.yaml. docker-compose.yml runs the image of the same version (jaegertracing/jaeger:<v2 version>).
#
# Cached: the binary goes to ${OTEL_BIN_CACHE:-<repo>/.cache/otel-bin}/<key>/, where the key hashes go.mod,
# go.sum, the Go version and this script, so it is rebuilt only when a pin changes; Go's own module and build
# caches make a rebuild cheaper. Measured on 2 shared cores: about 7 minutes cold (35 s to download the
# modules, 6 min 15 s to compile), 5 s to relink with Go's build cache warm, 0.05 s when the binary is cached.
# Nothing is downloaded but Go modules, from the module proxy, checked against go.sum (-mod=readonly).
#
# Prints three lines: the binary's path, the Jaeger v2 version (e.g. 2.13.0) and the module version (v1.76.0).
# With --versions, prints only the two versions and builds nothing (tests/dockerCompose.test.ts compares the
# compose images with them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

command -v go >/dev/null || { echo "go not found: install the Go toolchain (1.24 or newer) to build Jaeger" >&2; exit 127; }
export GOFLAGS="-mod=readonly -buildvcs=false"

module_version=$(go list -m -f '{{.Version}}' github.com/jaegertracing/jaeger)
# Jaeger tags each release twice, v1.x (the Go module) and v2.y (the binary and the image); its CHANGELOG, in
# the module itself, pairs them ("v1.76.0 / v2.13.0 (2025-12-03)").
module_dir=$(go mod download -json github.com/jaegertracing/jaeger | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
v2_version=$(sed -n "s|^${module_version} / v\(2\.[0-9.]*\) .*|\1|p" "$module_dir/CHANGELOG.md" | head -1)
[ -n "$v2_version" ] || { echo "no v2 version for jaeger $module_version in its CHANGELOG.md" >&2; exit 1; }
if [ "${1:-}" = "--versions" ]; then
  printf '%s\n%s\n' "$v2_version" "$module_version"
  exit 0
fi

key=$( (cat go.mod go.sum "$here/build.sh"; go version) | sha256sum | cut -c1-16)
cache="${OTEL_BIN_CACHE:-$root/.cache/otel-bin}"
out="$cache/$key"
if [ ! -x "$out/jaeger" ]; then
  mkdir -p "$out"
  started=$(date +%s)
  echo "building jaeger $v2_version (module $module_version) into $out ..." >&2
  go build -trimpath -o "$out/jaeger.tmp" \
    -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$v2_version" \
    github.com/jaegertracing/jaeger/cmd/jaeger
  mv "$out/jaeger.tmp" "$out/jaeger"
  echo "built in $(( $(date +%s) - started )) s" >&2
  # Binaries of earlier pins are of no more use (about 100 MB each).
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
fi
printf '%s\n%s\n%s\n' "$out/jaeger" "$v2_version" "$module_version"
