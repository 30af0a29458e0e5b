#!/usr/bin/env sh
# The tests verify ops/deploy/systemd/ with `systemd-analyze verify`: install Debian's systemd
# package (which carries it) on a machine that lacks it.
set -eu
command -v systemd-analyze >/dev/null 2>&1 && exit 0
echo "installing systemd-analyze (Debian package systemd)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends systemd
