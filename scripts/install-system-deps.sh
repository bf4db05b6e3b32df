#!/usr/bin/env bash
# Installs the Debian packages the satellite and its tests need, only those that are missing.
set -euo pipefail

packages=(espeak-ng portaudio19-dev mosquitto mosquitto-clients)
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)  # tests/test_service.py
command -v npm >/dev/null 2>&1 || packages+=(npm)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv)
dpkg -s build-essential >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || packages+=(build-essential)
dpkg -s python3-dev >/dev/null 2>&1 || python3 -c 'import sysconfig,os,sys; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"],"Python.h")) else 1)' || packages+=(python3-dev)

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
# Debian starts the broker as a service on install; the satellite's tests start their own.
