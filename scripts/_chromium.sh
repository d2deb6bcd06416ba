# Sourced by scripts/test.sh: the report's browser tests need Debian's chromium. Installed when missing (CI runs
# as root on a fresh machine, so the browser tests never skip there); elsewhere, say how to install it.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing chromium for the report's browser tests (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "==> chromium is missing: the report's browser tests will fail; install it with" \
         "'sudo apt-get update && sudo apt-get install -y chromium'" >&2
  fi
fi
