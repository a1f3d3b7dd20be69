#!/usr/bin/env bash
# Make sure Debian's Chromium is there for the browser test. Never downloads a browser of its own.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test (about 20 s)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    && exit 0
  echo "apt-get could not install chromium." >&2
fi
cat >&2 <<'MSG'
Chromium is missing, so the real-browser test will be skipped.
Install it with your system's package manager, for example:
    sudo apt-get install chromium        (Debian/Ubuntu)
or set COURSE_CHROMIUM=/path/to/chromium. The course never downloads a browser itself.
MSG
exit 0
