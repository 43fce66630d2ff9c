#!/usr/bin/env bash
# Installs the system packages leasekeeper's tests and sandbox use, when missing:
# redis-server and PostgreSQL (required), kubectl and the aws CLI (optional smoke tests).
# Safe to run repeatedly. Needs root for apt-get; otherwise prints the command to run.
set -uo pipefail

missing_required=()
missing_optional=()
have() { command -v "$1" >/dev/null 2>&1; }
have_pg() { have initdb || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }

have redis-server || missing_required+=(redis-server)
have_pg || missing_required+=(postgresql)
have kubectl || missing_optional+=(kubectl)
have aws || missing_optional+=(awscli)

if [ ${#missing_required[@]} -eq 0 ] && [ ${#missing_optional[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

if [ "$(id -u)" != "0" ] || ! have apt-get; then
  echo "missing system packages: ${missing_required[*]} ${missing_optional[*]}"
  echo "install them with: sudo apt-get update && sudo apt-get install -y ${missing_required[*]} ${missing_optional[*]}"
  [ ${#missing_required[@]} -eq 0 ] && exit 0 || exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
if [ ${#missing_required[@]} -gt 0 ]; then
  apt-get install -y -qq "${missing_required[@]}" || { echo "could not install ${missing_required[*]}"; exit 1; }
fi
for pkg in "${missing_optional[@]}"; do
  case "$pkg" in
    kubectl) apt-get install -y -qq kubectl || apt-get install -y -qq kubernetes-client || echo "kubectl unavailable: its smoke test will be skipped" ;;
    *) apt-get install -y -qq "$pkg" || echo "$pkg unavailable: its smoke test will be skipped" ;;
  esac
done
# Debian's postgresql package does not put initdb on PATH; the test helpers look in /usr/lib/postgresql too.
echo "system packages: done"
