#!/usr/bin/env bash
# Deploys every function (or those named) with its trigger, the Pub/Sub
# topics, the Cloud Scheduler jobs, the Firestore rules, indexes and TTL
# policies. Secrets come from Secret Manager (names: see --dry-run);
# non-secret variables from --env-file FILE and the environment (README,
# "Configuration").
#   scripts/deploy.sh --project P [--region europe-north1] [--env-file FILE] [--dry-run] [NAME …]
set -euo pipefail
cd "$(dirname "$0")/.."
dry=false
for a in "$@"; do
  case "$a" in --dry-run|-dry-run|--dry-run=true|-dry-run=true) dry=true ;; esac
done
# The rules and indexes are deployed with the repository's firebase-tools
# (.tools/, what scripts/install.sh installs); a dry run installs nothing.
if ! $dry && [ ! -x .tools/node_modules/.bin/firebase ]; then
  scripts/install.sh firebase-tools
fi
exec go run ./scripts/ops deploy "$@"
