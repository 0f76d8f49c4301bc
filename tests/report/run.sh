#!/usr/bin/env bash
# The HTML report in a real browser: renders the report of each example project, opens it in
# headless Chromium and checks it against the JSON report (tests/report/browser_check.py).
# Screenshots are left under target/report/ for a person to look at.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null; then
  echo "installing Chromium (Debian package chromium)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
venv=target/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c "import websocket, PIL" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "websocket-client==1.9.2" "pillow==13.0.0"
fi
cargo build --quiet --workspace
tenure=target/debug/tenure
out=target/report
mkdir -p "$out"
for example in saas wholesale; do
  case $example in
    saas) config=metrics.toml ;;
    wholesale) config=examples/wholesale/metrics.toml ;;
  esac
  "$tenure" report "$config" --quiet --out "$out/$example.html"
  "$tenure" run "$config" --quiet --format json > "$out/$example.json"
  size=$(stat -c %s "$out/$example.html")
  if [ "$size" -ge 2000000 ]; then
    echo "FAIL $example: the report is $size bytes, over 2 MB"
    exit 1
  fi
  echo "$example: report of $size bytes"
  "$venv/bin/python" tests/report/browser_check.py chromium "$out/$example.html" "$out/$example.json" "$out/$example"
done
