#!/usr/bin/env bash
# Deploys every function (or those named) with its trigger, the Pub/Sub
# topics, the Cloud Scheduler jobs, the Firestore rules, indexes and TTL
# policies. Secrets come from Secret Manager (names: see --dry-run);
# non-secret variables from --env-file FILE and the environment (README,
# "Configuration"). A relative FILE is relative to the caller's directory.
#   scripts/deploy.sh --project P [--region europe-north1] [--env-file FILE] [--dry-run] [NAME …]
set -euo pipefail

# abs PATH: PATH against the caller's working directory (before the cd).
abs() { case "$1" in /* | "") printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }

# The arguments as Go's flag package (ops deploy) reads them: flags up to
# the first non-flag or "--", then the function names. The env file is
# made absolute; the rest is passed on as it is, for ops to judge.
args=() dry=false help=false all=true flags=true
while (($#)); do
  a=$1
  shift
  if ! $flags; then
    all=false
    args+=("$a")
    continue
  fi
  case "$a" in
  --) flags=false ;;
  -env-file | --env-file)
    args+=("$a")
    if (($#)); then
      args+=("$(abs "$1")")
      shift
    fi
    continue
    ;;
  -env-file=* | --env-file=*)
    args+=("${a%%=*}=$(abs "${a#*=}")")
    continue
    ;;
  -project | --project | -region | --region)
    args+=("$a")
    if (($#)); then
      args+=("$1")
      shift
    fi
    continue
    ;;
  -dry-run | --dry-run) dry=true ;;
  -dry-run=* | --dry-run=*) case "${a#*=}" in 1 | t | T | true | TRUE | True) dry=true ;; *) dry=false ;; esac ;;
  -h | -help | --help) help=true ;;
  -?*) ;; # another flag: ops judges it
  *)
    flags=false
    all=false
    ;;
  esac
  args+=("$a")
done

cd "$(dirname "$0")/.."
# firebase-tools deploys the rules and indexes, which only a full deploy
# (no NAME) does: then, unless the repository's (.tools/, what
# scripts/install.sh installs) or one on PATH is there, it is installed.
# A dry run installs nothing; ops checks every command before running one.
if ! $dry && ! $help && $all && [ ! -x .tools/node_modules/.bin/firebase ] && ! command -v firebase >/dev/null; then
  scripts/install.sh firebase-tools
fi
exec go run ./scripts/ops deploy ${args[@]+"${args[@]}"}
