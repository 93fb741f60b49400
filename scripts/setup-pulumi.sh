#!/usr/bin/env bash
# Puts the real Pulumi toolchain pinned in scripts/env.sh on this machine:
#   $ETCD_PULUMI_PULUMI_BIN/pulumi and pulumi-language-nodejs at v$PULUMI_VERSION, and the resource
#   plugins command, tls and random at their exact pinned versions in $PULUMI_HOME; and, optional, the
#   language hosts of the multi-language consumers next to the CLI: pulumi-language-yaml
#   v$PULUMI_YAML_VERSION (pulumi/pulumi-yaml) and pulumi-language-go v$PULUMI_LANGUAGE_GO_VERSION.
# Order of preference:
#   1. already installed at the right versions: the CLI and language host in $ETCD_PULUMI_PULUMI_BIN or
#      elsewhere on PATH (linked in), the plugins in $PULUMI_HOME, or as pulumi-resource-<name> binaries
#      next to the CLI or on PATH (installed with `pulumi plugin install --file`);
#   2. the official release archives from get.pulumi.com (skipped when ETCD_PULUMI_OFFLINE=1);
#   3. otherwise: report exactly what is missing and exit 1 (nothing half-installed). A missing optional
#      language host is listed too, and in $PULUMI_LANGUAGES_UNAVAILABLE_FILE, without failing: the tests
#      that need it skip with that reason.
# Usage: scripts/setup-pulumi.sh        (no arguments; safe to re-run)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

BIN_DIR="$ETCD_PULUMI_PULUMI_BIN"
WORK_DIR="$ETCD_PULUMI_CACHE/pulumi-downloads"
OFFICIAL_BASE="https://get.pulumi.com/releases"
YAML_RELEASES="https://github.com/pulumi/pulumi-yaml/releases/download"
PLUGINS=(command tls random)
LANGUAGE_HOSTS=(yaml go)

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

language_version() {
  case "$1" in
    yaml) printf '%s' "$PULUMI_YAML_VERSION" ;;
    go) printf '%s' "$PULUMI_LANGUAGE_GO_VERSION" ;;
    *) die "unknown language host $1" ;;
  esac
}

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

# Every optional language host already at its pinned version next to the CLI.
languages_present() {
  local lang
  for lang in "${LANGUAGE_HOSTS[@]}"; do language_host_ok "$lang" "$BIN_DIR/pulumi-language-$lang" || return 1; done
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

# The official CLI archive, checksum-verified, unpacked into $WORK_DIR/extract/pulumi (once per run).
fetch_cli_archive() {
  local dl="$WORK_DIR" archive="pulumi-v$PULUMI_VERSION-linux-x64.tar.gz" sums="pulumi-$PULUMI_VERSION-checksums.txt"
  [ ! -f "$dl/extract/.complete" ] || return 0
  mkdir -p "$dl"
  log "downloading $archive"
  curl -fsSL --retry 2 -o "$dl/$archive" "$OFFICIAL_BASE/sdk/$archive" || return 1
  curl -fsSL --retry 2 -o "$dl/$sums" "$OFFICIAL_BASE/sdk/$sums" || return 1
  (cd "$dl" && grep -F " $archive" "$sums" | sha256sum -c --quiet -) || die "checksum mismatch for $dl/$archive"
  rm -rf "$dl/extract" && mkdir -p "$dl/extract"
  tar -xzf "$dl/$archive" -C "$dl/extract"
  touch "$dl/extract/.complete"
}

download_cli() {
  fetch_cli_archive || return 1
  mkdir -p "$BIN_DIR"
  install_cli_files "$WORK_DIR/extract/pulumi"
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
# Optional language hosts (yaml, go): installed -> on PATH -> official download -> listed as missing
# ---------------------------------------------------------------------------------------------
# The version a language host was built as, empty when it cannot tell. pulumi-language-go answers
# -version; pulumi-language-yaml has no such flag, but its Go build info keeps the version it was linked
# with (-X github.com/pulumi/pulumi-yaml/pkg/version.Version=vX.Y.Z), readable without running it.
language_host_version() { # lang binary
  case "$1" in
    go) { timeout 20 "$2" -version </dev/null 2>&1 || true; } | grep -Eo '^v[0-9]+\.[0-9]+\.[0-9]+' | tail -n 1 || true ;;
    yaml) { grep -aoE 'pulumi-yaml/pkg/version\.Version=v[0-9]+\.[0-9]+\.[0-9]+' "$2" 2>/dev/null || true; } | head -n 1 | sed 's/.*=//' ;;
  esac
}

language_host_ok() { # lang binary
  [ -x "$2" ] && [ "$(language_host_version "$1" "$2")" = "v$(language_version "$1")" ]
}

install_language_host() { # lang binary source
  mkdir -p "$BIN_DIR"
  install -m 0755 "$2" "$BIN_DIR/.pulumi-language-$1.new"
  mv -f "$BIN_DIR/.pulumi-language-$1.new" "$BIN_DIR/pulumi-language-$1"
  log "installed pulumi-language-$1 v$(language_version "$1") into $BIN_DIR ($3)"
}

# Elsewhere on PATH at the pinned version: linked in. One of another version is refused, saying so.
adopt_language_host() { # lang
  local lang="$1" cand said
  cand="$(PATH="${PATH//"$BIN_DIR:"/}" command -v "pulumi-language-$lang" || true)"
  [ -n "$cand" ] || return 1
  cand="$(cd "$(dirname "$cand")" && pwd -P)/$(basename "$cand")"
  said="$(language_host_version "$lang" "$cand")"
  if [ "$said" != "v$(language_version "$lang")" ]; then
    log "ignoring $cand: it is version ${said:-unknown}, v$(language_version "$lang") is pinned"
    return 1
  fi
  mkdir -p "$BIN_DIR"
  ln -sfn "$cand" "$BIN_DIR/pulumi-language-$lang"
  log "using pulumi-language-$lang v$(language_version "$lang") found at $cand (linked into $BIN_DIR)"
}

# go: the official CLI archive of the pinned version ships it. yaml: the CLI archive's, when it is the
# pinned version, else the pulumi/pulumi-yaml release archive, checked against the release's checksums.
download_language_host() { # lang
  local lang="$1" ver dl="$WORK_DIR" archive sums
  ver="$(language_version "$lang")"
  if fetch_cli_archive && language_host_ok "$lang" "$dl/extract/pulumi/pulumi-language-$lang"; then
    install_language_host "$lang" "$dl/extract/pulumi/pulumi-language-$lang" "official CLI archive"
    return 0
  fi
  [ "$lang" = yaml ] || return 1
  archive="pulumi-language-yaml-v$ver-linux-amd64.tar.gz"
  sums="pulumi-yaml-$ver-checksums.txt"
  log "downloading $archive from the pulumi/pulumi-yaml release"
  curl -fsSL --retry 2 -o "$dl/$archive" "$YAML_RELEASES/v$ver/$archive" || return 1
  curl -fsSL --retry 2 -o "$dl/$sums" "$YAML_RELEASES/v$ver/$sums" || return 1
  (cd "$dl" && grep -F " $archive" "$sums" | sha256sum -c --quiet -) || die "checksum mismatch for $dl/$archive"
  rm -rf "$dl/yaml" && mkdir -p "$dl/yaml" && tar -xzf "$dl/$archive" -C "$dl/yaml"
  language_host_ok yaml "$dl/yaml/pulumi-language-yaml" || return 1
  install_language_host yaml "$dl/yaml/pulumi-language-yaml" "pulumi/pulumi-yaml release"
}

# Never fails: what cannot be had is logged as UNAVAILABLE and written to $PULUMI_LANGUAGES_UNAVAILABLE_FILE.
setup_language_hosts() { # online (0/1)
  local online="$1" lang ver bin missing=()
  for lang in "${LANGUAGE_HOSTS[@]}"; do
    ver="$(language_version "$lang")"
    bin="$BIN_DIR/pulumi-language-$lang"
    if language_host_ok "$lang" "$bin"; then
      log "pulumi-language-$lang v$ver present in $BIN_DIR"
      continue
    fi
    if [ -e "$bin" ]; then log "ignoring $bin: it is version $(language_host_version "$lang" "$bin" || true), v$ver is pinned"; fi
    if adopt_language_host "$lang"; then continue; fi
    if [ "$online" = 1 ] && download_language_host "$lang"; then continue; fi
    missing+=("$lang")
  done
  mkdir -p "$(dirname "$PULUMI_LANGUAGES_UNAVAILABLE_FILE")"
  if [ "${#missing[@]}" = 0 ]; then
    rm -f "$PULUMI_LANGUAGES_UNAVAILABLE_FILE"
    return 0
  fi
  : > "$PULUMI_LANGUAGES_UNAVAILABLE_FILE"
  for lang in "${missing[@]}"; do
    log "  - UNAVAILABLE: pulumi-language-$lang v$(language_version "$lang") (optional: in $BIN_DIR or on PATH; the $lang consumer's tests skip without it)"
    printf 'pulumi-language-%s v%s is not installed (in %s or on PATH) and could not be downloaded here\n' \
      "$lang" "$(language_version "$lang")" "$BIN_DIR" >> "$PULUMI_LANGUAGES_UNAVAILABLE_FILE"
  done
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
  local start=$SECONDS need_cli=0 todo="" name archive online=0
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
    # Reaching get.pulumi.com is tried only when a language host is not already here.
    if languages_present || ! official_reachable; then setup_language_hosts 0; else setup_language_hosts 1; fi
    log "ready ($((SECONDS - start))s)"
    return 0
  fi

  if official_reachable; then
    online=1
    [ "$need_cli" = 0 ] || download_cli || die "download of pulumi v$PULUMI_VERSION failed"
    need_cli=0
    for name in $todo; do
      archive="$(download_plugin "$name")" || die "download of plugin $name $(plugin_version "$name") failed"
      install_plugin "$name" "$archive"
    done
    todo=""
  fi
  setup_language_hosts "$online"
  [ "$need_cli" = 0 ] && [ -z "$todo" ] || report_missing "$need_cli" "$todo"
  verify_installation
  log "done in $((SECONDS - start))s"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
