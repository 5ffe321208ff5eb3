#!/usr/bin/env bash
# Installs everything the test suite needs, into the Python that runs this script's
# `python3` (a virtualenv when one is active), so that `python -m pytest` afterwards runs
# the same suite CI runs, with nothing skipped for want of an install:
#   - Debian packages: the Fashion-MNIST files (the dataset reader test, benchmarks),
#     the three browser engines phones have: Chromium (through Playwright), WebKitGTK's
#     WebDriver and MiniBrowser (webkit2gtk-driver, through Selenium) and Firefox ESR
#     (through puppeteer-core), Xvfb (WebKitGTK's window, the real key-press test),
#     libgl1 (the OpenCV wheel MediaPipe pulls in), unzip (the picture zip test), Node.js
#     and npm (the stock web clients);
#   - the TFLite Task Library in a venv of its own (.venv-tasklib: it pins protobuf<4,
#     which the exporters' libraries cannot share);
#   - the stock web clients, puppeteer-core and axe-core from npm (tests/npm-clients, pinned by
#     its package-lock.json);
#   - pocketvision itself with its [test] extra.
# .ci/run calls this script too, so a newcomer and CI install the same things.
set -euo pipefail
cd "$(dirname "$0")/.."

# The interpreter `python -m pytest` will run (python3 where there is no `python`).
PYTHON=$(command -v python || command -v python3)

APT_PACKAGES=(dataset-fashion-mnist chromium webkit2gtk-driver firefox-esr xvfb libgl1 unzip)
# Node.js and npm from Debian only where there is no npm yet (a Node.js from elsewhere
# brings its own npm, and Debian's npm would conflict with it).
command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)

install_debian_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "tests/install.sh: missing Debian packages: ${missing[*]}; run as root:" >&2
      echo "  apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "tests/install.sh: this is not a Debian-based system; install by hand: ${missing[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  "${sudo[@]}" apt-get clean
}

install_task_library() {
  if [ ! -x .venv-tasklib/bin/python ] || ! .venv-tasklib/bin/python -c "import tflite_support" 2>/dev/null; then
    echo "installing the TFLite Task Library into .venv-tasklib"
    "$PYTHON" -m venv .venv-tasklib
    .venv-tasklib/bin/pip install -q tflite-support==0.4.4
  fi
}

install_web_clients() {
  echo "installing the stock web clients, puppeteer-core and axe-core (npm ci in tests/npm-clients)"
  npm ci --prefix tests/npm-clients --no-audit --no-fund --loglevel=error
}

install_debian_packages
install_task_library
install_web_clients
echo "installing pocketvision with its [test] extra"
"$PYTHON" -m pip install -q '.[test]'
echo "everything the tests need is installed: run python -m pytest"
