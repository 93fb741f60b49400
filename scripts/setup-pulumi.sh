#!/usr/bin/env bash
# Puts the real Pulumi toolchain pinned in scripts/env.sh on this machine:
#   $ETCD_PULUMI_PULUMI_BIN/pulumi and pulumi-language-nodejs at v$PULUMI_VERSION, and the resource
#   plugins command, tls and random at their exact pinned versions in $PULUMI_HOME.
# Order of preference:
#   1. already installed at the right versions: the CLI and language host in $ETCD_PULUMI_PULUMI_BIN or
#      elsewhere on PATH (linked in), the plugins in $PULUMI_HOME, or as pulumi-resource-<name> binaries
#      next to the CLI or on PATH (installed with `pulumi plugin install --file`);
#   2. the official release archives from get.pulumi.com (skipped when ETCD_PULUMI_OFFLINE=1);
#   3. otherwise: report exactly what is missing and exit 1 (nothing half-installed).
# Usage: scripts/setup-pulumi.sh        (no arguments; safe to re-run)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

BIN_DIR="$ETCD_PULUMI_PULUMI_BIN"
WORK_DIR="$ETCD_PULUMI_CACHE/pulumi-downloads"
OFFICIAL_BASE="https://get.pulumi.com/releases"
PLUGINS=(command tls random)

log() { printf '[setup-pulumi] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

plugin_version() {
  case "$1" in
    command) printf '%s' "$PULUMI_COMMAND_VERSION" ;;
    tls) printf '%s' "$PULUMI_TLS_VERSION" ;;
    random) printf '%s' "$PULUMI_RANDOM_VERSION" ;;
    *) die "unknown plugin $1" ;;
  esac
}

plugin_dir() { printf '%s/plugins/resource-%s-v%s' "$PULUMI_HOME" "$1" "$(plugin_version "$1")"; }

# ---------------------------------------------------------------------------------------------
# 1. What is already there
# ---------------------------------------------------------------------------------------------
pulumi_version_of() { "$1" version 2>/dev/null | head -n 1 || true; }

cli_installed() {
  [ -x "$BIN_DIR/pulumi" ] && [ -x "$BIN_DIR/pulumi-language-nodejs" ] &&
    [ "$(pulumi_version_of "$BIN_DIR/pulumi")" = "v$PULUMI_VERSION" ]
}

plugin_installed() {
  [ -x "$(plugin_dir "$1")/pulumi-resource-$1" ] && [ ! -e "$(plugin_dir "$1").partial" ]
}

# A pulumi of the right version elsewhere on PATH, with its language host next to it, is linked in
# (with the companions the official archive ships, such as the dynamic-provider launcher).
adopt_cli_from_path() {
  local found dir f
  found="$(PATH="${PATH//"$BIN_DIR:"/}" command -v pulumi || true)"
  [ -n "$found" ] || return 1
  dir="$(cd "$(dirname "$found")" && pwd -P)"
  [ "$dir" != "$BIN_DIR" ] && [ -x "$dir/pulumi-language-nodejs" ] || return 1
  [ "$(pulumi_version_of "$found")" = "v$PULUMI_VERSION" ] || return 1
  mkdir -p "$BIN_DIR"
  for f in "$dir"/pulumi-language-nodejs "$dir"/pulumi-resource-pulumi-nodejs "$dir"/pulumi-analyzer-policy*; do
    [ -e "$f" ] && ln -sfn "$f" "$BIN_DIR/$(basename "$f")"
  done
  ln -sfn "$dir/pulumi" "$BIN_DIR/pulumi"
  log "using pulumi v$PULUMI_VERSION found at $dir (linked into $BIN_DIR)"
}

# A plugin binary next to the CLI or on PATH. Its own -version must agree where it answers one: the
# engine trusts the version given to `plugin install`, so a wrong binary must not get through.
adopt_plugin_binary() { # name
  local name="$1" ver cand said
  ver="$(plugin_version "$name")"
  for cand in "$BIN_DIR/pulumi-resource-$name" "$(command -v "pulumi-resource-$name" 2>/dev/null || true)"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    said="$(timeout 20 "$cand" -version </dev/null 2>&1 | head -n 1 || true)"
    if printf '%s' "$said" | grep -Eq '^v?[0-9]+\.[0-9]+\.[0-9]+' && [ "${said#v}" != "$ver" ]; then
      log "ignoring $cand: it reports version $said, $ver is pinned"
      continue
    fi
    install_plugin "$name" "$cand"
    return 0
  done
  return 1
}

missing_plugins() {
  local name
  for name in "${PLUGINS[@]}"; do
    plugin_installed "$name" || printf '%s ' "$name"
  done
}

# ---------------------------------------------------------------------------------------------
# 2. Official download
# ---------------------------------------------------------------------------------------------
official_reachable() {
  [ "${ETCD_PULUMI_OFFLINE:-0}" != 1 ] || { log "ETCD_PULUMI_OFFLINE=1: not trying get.pulumi.com"; return 1; }
  if curl -fsS --max-time 5 -o /dev/null -I "$OFFICIAL_BASE/sdk/pulumi-v$PULUMI_VERSION-linux-x64.tar.gz" 2>/dev/null; then
    log "get.pulumi.com is reachable: using the official release archives"
  else
    log "get.pulumi.com is not reachable"
    return 1
  fi
}

download_cli() {
  local dl="$WORK_DIR" archive="pulumi-v$PULUMI_VERSION-linux-x64.tar.gz" sums="pulumi-$PULUMI_VERSION-checksums.txt"
  mkdir -p "$dl"
  log "downloading $archive"
  curl -fsSL --retry 2 -o "$dl/$archive" "$OFFICIAL_BASE/sdk/$archive" || return 1
  curl -fsSL --retry 2 -o "$dl/$sums" "$OFFICIAL_BASE/sdk/$sums" || return 1
  (cd "$dl" && grep -F " $archive" "$sums" | sha256sum -c --quiet -) || die "checksum mismatch for $dl/$archive"
  rm -rf "$dl/extract" && mkdir -p "$dl/extract" "$BIN_DIR"
  tar -xzf "$dl/$archive" -C "$dl/extract"
  install_cli_files "$dl/extract/pulumi"
}

download_plugin() { # name -> prints the archive path
  local name="$1" ver archive
  ver="$(plugin_version "$name")"
  archive="$WORK_DIR/pulumi-resource-$name-v$ver-linux-amd64.tar.gz"
  mkdir -p "$WORK_DIR"
  curl -fsSL --retry 2 -o "$archive" "$OFFICIAL_BASE/plugins/pulumi-resource-$name-v$ver-linux-amd64.tar.gz" || return 1
  printf '%s' "$archive"
}

# Installs pulumi and its companions from a directory; pulumi goes last so that its presence means done.
install_cli_files() { # dir
  local src="$1" f
  mkdir -p "$BIN_DIR"
  for f in "$src"/*; do
    if [ ! -f "$f" ] || [ "$(basename "$f")" = pulumi ]; then continue; fi
    install -m 0755 "$f" "$BIN_DIR/.$(basename "$f").new"
    mv -f "$BIN_DIR/.$(basename "$f").new" "$BIN_DIR/$(basename "$f")"
  done
  install -m 0755 "$src/pulumi" "$BIN_DIR/.pulumi.new"
  mv -f "$BIN_DIR/.pulumi.new" "$BIN_DIR/pulumi"
  log "installed pulumi $(pulumi_version_of "$BIN_DIR/pulumi") and pulumi-language-nodejs into $BIN_DIR"
}

install_plugin() { # name file-or-archive
  local name="$1" ver out
  ver="$(plugin_version "$name")"
  out="$("$BIN_DIR/pulumi" plugin install resource "$name" "$ver" --file "$2" --reinstall 2>&1)" ||
    die "pulumi plugin install resource $name $ver --file $2 failed: $out"
  log "installed plugin $name $ver from $2 into $PULUMI_HOME/plugins"
}

# ---------------------------------------------------------------------------------------------
# 3. Report what is missing
# ---------------------------------------------------------------------------------------------
report_missing() { # need_cli todo
  local name
  log "the pinned Pulumi toolchain is not installed here and cannot be downloaded. Missing:"
  [ "$1" = 0 ] || log "  - UNAVAILABLE: pulumi CLI v$PULUMI_VERSION with pulumi-language-nodejs v$PULUMI_VERSION (in $BIN_DIR or on PATH)"
  for name in $2; do
    log "  - UNAVAILABLE: resource plugin $name $(plugin_version "$name") (in $PULUMI_HOME/plugins, or pulumi-resource-$name next to the CLI or on PATH)"
  done
  log "Install these exact versions (official archives from get.pulumi.com, or binaries built from the"
  log "public pulumi/pulumi, pulumi/pulumi-command, pulumi/pulumi-tls and pulumi/pulumi-random tags) where"
  log "listed above, then re-run. Nothing was installed."
  exit 1
}

# The toolchain is usable: right CLI version, language host beside it, plugins listed at exact versions.
verify_installation() {
  local listing name ver
  [ "$(pulumi_version_of "$BIN_DIR/pulumi")" = "v$PULUMI_VERSION" ] || die "$BIN_DIR/pulumi is not v$PULUMI_VERSION"
  [ -x "$BIN_DIR/pulumi-language-nodejs" ] || die "$BIN_DIR/pulumi-language-nodejs is missing"
  listing="$("$BIN_DIR/pulumi" plugin ls 2>&1)" || die "pulumi plugin ls failed: $listing"
  for name in "${PLUGINS[@]}"; do
    ver="$(plugin_version "$name")"
    if ! printf '%s\n' "$listing" | awk -v n="$name" -v v="$ver" '$1 == n && $2 == "resource" && $3 == v { ok = 1 } END { exit !ok }'; then
      printf '%s\n' "$listing" >&2
      die "pulumi plugin ls (above) does not list resource plugin $name $ver"
    fi
  done
  log "verified: pulumi v$PULUMI_VERSION, plugins ${PLUGINS[*]} at $PULUMI_COMMAND_VERSION/$PULUMI_TLS_VERSION/$PULUMI_RANDOM_VERSION in $PULUMI_HOME"
}

# ---------------------------------------------------------------------------------------------
main() {
  local start=$SECONDS need_cli=0 todo="" name archive
  mkdir -p "$ETCD_PULUMI_CACHE"
  exec 9>>"$ETCD_PULUMI_CACHE/.setup-pulumi.lock"
  flock 9 || die "could not lock $ETCD_PULUMI_CACHE/.setup-pulumi.lock"

  if cli_installed || adopt_cli_from_path; then
    log "pulumi v$PULUMI_VERSION and pulumi-language-nodejs present in $BIN_DIR"
  else
    need_cli=1
  fi
  for name in $(missing_plugins); do
    if [ "$need_cli" = 1 ] || ! adopt_plugin_binary "$name"; then todo="$todo$name "; fi
  done
  if [ "$need_cli" = 0 ] && [ -z "$todo" ]; then
    verify_installation
    log "ready ($((SECONDS - start))s)"
    return 0
  fi

  if official_reachable; then
    [ "$need_cli" = 0 ] || download_cli || die "download of pulumi v$PULUMI_VERSION failed"
    need_cli=0
    for name in $todo; do
      archive="$(download_plugin "$name")" || die "download of plugin $name $(plugin_version "$name") failed"
      install_plugin "$name" "$archive"
    done
    todo=""
  fi
  [ "$need_cli" = 0 ] && [ -z "$todo" ] || report_missing "$need_cli" "$todo"
  verify_installation
  log "done in $((SECONDS - start))s"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
