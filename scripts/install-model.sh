#!/usr/bin/env bash
# Installs the embedded model into ~/.cache/playschool/models (serve.sh and test.sh do this too).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_embedded_model
