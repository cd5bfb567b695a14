#!/usr/bin/env bash
# Installs what the local stack and the test suite need, when missing:
# Go modules, the gcloud emulator components (Firestore, Pub/Sub), Java,
# firebase-tools (Auth emulator) into .tools/, stripe-mock and
# fake-gcs-server into $GOBIN, and swetest (the astronomy test oracle).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }
need_apt=()

command -v go >/dev/null || { say "Go is required (https://go.dev/dl)"; exit 1; }
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v swetest >/dev/null || need_apt+=(swetest swe-standard-data)
command -v npm >/dev/null || need_apt+=(nodejs npm)
if ! command -v gcloud >/dev/null; then
  need_apt+=(google-cloud-cli google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator)
fi
if ((${#need_apt[@]})); then
  say "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get install -y "${need_apt[@]}" >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y "${need_apt[@]}" >/dev/null; }
fi

SDK=$( [ -d /usr/lib/google-cloud-sdk/platform ] && echo /usr/lib/google-cloud-sdk || gcloud info --format='value(installation.sdk_root)')
for comp in cloud-firestore-emulator:cloud-firestore-emulator pubsub-emulator:pubsub-emulator; do
  dir=${comp%%:*}; name=${comp##*:}
  if [ ! -d "$SDK/platform/$dir" ]; then
    say "installing gcloud component $name"
    gcloud components install "$name" --quiet >/dev/null 2>&1 || apt-get install -y "google-cloud-cli-${name/cloud-/}" >/dev/null
  fi
done

go mod download
GOBIN=${GOBIN:-$(go env GOPATH)/bin}
[ -x "$GOBIN/stripe-mock" ] || { say "go install stripe-mock"; go install github.com/stripe/stripe-mock@v0.203.0; }
[ -x "$GOBIN/fake-gcs-server" ] || { say "go install fake-gcs-server"; go install github.com/fsouza/fake-gcs-server@v1.56.1; }

if [ ! -x "$ROOT/.tools/node_modules/.bin/firebase" ]; then
  say "npm install firebase-tools@15 into .tools/"
  mkdir -p "$ROOT/.tools"
  [ -f "$ROOT/.tools/package.json" ] || echo '{"name":"innerjourney-tools","private":true}' > "$ROOT/.tools/package.json"
  (cd "$ROOT/.tools" && npm install --no-audit --no-fund firebase-tools@15 >/dev/null 2>&1)
fi
say "ok"
