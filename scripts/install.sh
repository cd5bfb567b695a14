#!/usr/bin/env bash
# Installs what the local stack and the test suite need, when missing:
# Go modules, the gcloud emulator components (Firestore, Pub/Sub), Java,
# firebase-tools (Auth emulator) into .tools/, stripe-mock and
# fake-gcs-server into $GOBIN, and swetest (the astronomy test oracle).
# Idempotent: a second run only checks.
#
# The Google Cloud CLI (gcloud) must be preinstalled: Debian's own
# repositories do not carry it. It is taken from apt only when Google's apt
# repository is configured; otherwise the script stops and says how.
#
#   scripts/install.sh                  everything
#   scripts/install.sh firebase-tools   only firebase-tools into .tools/ (deploy.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }

# install_firebase_tools puts firebase-tools into .tools/ (the Auth
# emulator; `firebase deploy` of the rules and indexes).
install_firebase_tools() {
  [ -x "$ROOT/.tools/node_modules/.bin/firebase" ] && return 0
  command -v npm >/dev/null || { say "npm is required for firebase-tools (apt-get install nodejs npm)"; return 1; }
  say "npm install firebase-tools@15 into .tools/"
  mkdir -p "$ROOT/.tools"
  [ -f "$ROOT/.tools/package.json" ] || echo '{"name":"innerjourney-tools","private":true}' > "$ROOT/.tools/package.json"
  (cd "$ROOT/.tools" && npm install --no-audit --no-fund firebase-tools@15 >/dev/null 2>&1) ||
    { say "npm install firebase-tools@15 failed (run it in .tools/ to see why)"; return 1; }
}

# apt_has PKG: some configured apt repository offers PKG.
apt_has() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; }

GCLOUD_HELP="The Google Cloud CLI with its Firestore and Pub/Sub emulators must be preinstalled
(Debian's repositories do not carry it). With internet access, add Google's apt repository
(https://cloud.google.com/sdk/docs/install#deb) and install the packages:
  sudo apt-get install -y apt-transport-https ca-certificates gnupg curl
  curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg | sudo gpg --dearmor -o /usr/share/keyrings/cloud.google.gpg
  echo 'deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main' | sudo tee /etc/apt/sources.list.d/google-cloud-sdk.list
  sudo apt-get update && sudo apt-get install -y google-cloud-cli google-cloud-cli-firestore-emulator google-cloud-cli-pubsub-emulator
then run scripts/install.sh again."

case "${1:-}" in
  "") ;;
  firebase-tools) install_firebase_tools; exit ;;
  *) say "usage: scripts/install.sh [firebase-tools]"; exit 2 ;;
esac

need_apt=()
command -v go >/dev/null || { say "Go is required (https://go.dev/dl)"; exit 1; }
command -v java >/dev/null || need_apt+=(openjdk-17-jre-headless)
command -v swetest >/dev/null || need_apt+=(swetest swe-standard-data)
command -v npm >/dev/null || need_apt+=(nodejs npm)
if ! command -v gcloud >/dev/null; then
  if ! apt_has google-cloud-cli; then
    say "gcloud not found and no apt repository offers google-cloud-cli."
    printf '%s\n' "$GCLOUD_HELP" >&2
    exit 1
  fi
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
    if ! gcloud components install "$name" --quiet >/dev/null 2>&1; then
      # gcloud from apt has no component manager: the emulators are packages.
      pkg="google-cloud-cli-${name/cloud-/}"
      if ! apt_has "$pkg"; then
        say "the gcloud component $name is missing and neither gcloud nor apt can install it."
        printf '%s\n' "$GCLOUD_HELP" >&2
        exit 1
      fi
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      $SUDO apt-get install -y "$pkg" >/dev/null
    fi
  fi
done

go mod download
GOBIN=${GOBIN:-$(go env GOPATH)/bin}
[ -x "$GOBIN/stripe-mock" ] || { say "go install stripe-mock"; go install github.com/stripe/stripe-mock@v0.203.0; }
[ -x "$GOBIN/fake-gcs-server" ] || { say "go install fake-gcs-server"; go install github.com/fsouza/fake-gcs-server@v1.56.1; }

install_firebase_tools
say "ok"
