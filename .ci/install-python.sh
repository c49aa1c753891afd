#!/usr/bin/env bash
# Installs what the Python-side tests need, on a fresh Debian machine as root; idempotent:
# Debian's python3-torch (1.13, CPU) and numpy for /usr/bin/python3 (Debian's own Python; another
# python3 on PATH, such as pyenv's, does not see Debian's packages). Tests call /usr/bin/python3.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  echo "[install-python] torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') present"
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
start=$SECONDS
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 python3-torch python3-numpy
/usr/bin/python3 -c 'import torch; print("[install-python] torch", torch.__version__)'
echo "[install-python] done in $((SECONDS - start)) s"
