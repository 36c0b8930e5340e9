#!/usr/bin/env bash
# Checks the operator dashboard (config/grafana/charter-dashboard.json) against Grafana 11.6's
# dashboard schema, as published in Grafana Labs' grafana-foundation-sdk (see the script it
# runs). The test `tests/tests/dashboards.rs` evaluates its queries against live nodes.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
venv="$target/grafana-check-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet 'grafana-foundation-sdk==1769699379!11.6.0'
"$venv/bin/python" scripts/check-grafana-dashboard.py config/grafana/charter-dashboard.json
