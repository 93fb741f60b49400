#!/usr/bin/env bash
# Puts the real Pulumi toolchain pinned in scripts/env.sh on this machine:
#   $ETCD_PULUMI_PULUMI_BIN/pulumi and pulumi-language-nodejs at v$PULUMI_VERSION, and the resource
#   plugins command, tls and random at their exact pinned versions in $PULUMI_HOME.
# Order of preference:
#   1. already installed at the right versions -> nothing to do (no network, no go, a few seconds);
#   2. the official release archives from get.pulumi.com (skipped when ETCD_PULUMI_OFFLINE=1);
#   3. a build from the Go module proxy (needs Go; the CLI alone took ~8.5 min cold on 2 cores,
#      module downloads included; Go's module and build caches are kept, so rebuilds are faster).
# Usage: scripts/setup-pulumi.sh        (no arguments; safe to re-run)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/env.sh"

BIN_DIR="$ETCD_PULUMI_PULUMI_BIN"
BUILD_DIR="$ETCD_PULUMI_CACHE/pulumi-build"
LOG_FILE="$BUILD_DIR/build.log"
OUT_DIR="$BUILD_DIR/out"
OFFICIAL_BASE="https://get.pulumi.com/releases"
PLUGINS=(command tls random)
# pkg/v3 v3.260.0's go.mod says "go 1.26.6"; an older local Go would need a toolchain download.
MIN_GO_MINOR=26
# The CLI and the language host read their version from this package variable.
PULUMI_VERSION_VAR="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
PULUMI_SDK_MOD="github.com/pulumi/pulumi/sdk/v3"
PULUMI_PKG_MOD="github.com/pulumi/pulumi/pkg/v3"
PULUMI_LANGHOST_MOD="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"

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

# github.com/pulumi/pulumi-<name>/<sub>[/vN]: Go adds the /vN suffix from major version 2 on.
plugin_module() { # name sub
  local major
  major="$(plugin_version "$1")"
  major="${major%%.*}"
  if [ "$major" -ge 2 ]; then
    printf 'github.com/pulumi/pulumi-%s/%s/v%s' "$1" "$2" "$major"
  else
    printf 'github.com/pulumi/pulumi-%s/%s' "$1" "$2"
  fi
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

# A pulumi of the right version elsewhere on PATH, with its language host next to it, is linked in.
adopt_cli_from_path() {
  local found dir
  found="$(PATH="${PATH//"$BIN_DIR:"/}" command -v pulumi || true)"
  [ -n "$found" ] || return 1
  dir="$(cd "$(dirname "$found")" && pwd -P)"
  [ "$dir" != "$BIN_DIR" ] && [ -x "$dir/pulumi-language-nodejs" ] || return 1
  [ "$(pulumi_version_of "$found")" = "v$PULUMI_VERSION" ] || return 1
  mkdir -p "$BIN_DIR"
  ln -sfn "$dir/pulumi-language-nodejs" "$BIN_DIR/pulumi-language-nodejs"
  ln -sfn "$dir/pulumi" "$BIN_DIR/pulumi"
  log "using pulumi v$PULUMI_VERSION found at $dir (linked into $BIN_DIR)"
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
    log "get.pulumi.com is not reachable: building from Go modules instead"
    return 1
  fi
}

download_cli() {
  local dl="$BUILD_DIR/downloads" archive="pulumi-v$PULUMI_VERSION-linux-x64.tar.gz" sums="pulumi-$PULUMI_VERSION-checksums.txt"
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
  archive="$BUILD_DIR/downloads/pulumi-resource-$name-v$ver-linux-amd64.tar.gz"
  mkdir -p "$BUILD_DIR/downloads"
  curl -fsSL --retry 2 -o "$archive" "$OFFICIAL_BASE/plugins/pulumi-resource-$name-v$ver-linux-amd64.tar.gz" || return 1
  printf '%s' "$archive"
}

# ---------------------------------------------------------------------------------------------
# 3. Build from Go modules
# ---------------------------------------------------------------------------------------------
require_go() {
  command -v go >/dev/null 2>&1 ||
    die "Go is needed to build Pulumi here but was not found. Install Go >= 1.$MIN_GO_MINOR (https://go.dev/dl/, e.g. unpacked to /usr/local/go) or put it on PATH, then re-run."
  local v minor
  v="$(go env GOVERSION)" # go1.26.8
  minor="${v#go1.}"
  minor="${minor%%.*}"
  [ "$minor" -ge "$MIN_GO_MINOR" ] 2>/dev/null ||
    die "found $v at $(command -v go); Go >= 1.$MIN_GO_MINOR is needed. Install it to /usr/local/go or put it first on PATH, then re-run."
  export CGO_ENABLED=0 GO111MODULE=on GOWORK=off
  log "using $v ($(command -v go)); module cache $(go env GOMODCACHE), build cache $(go env GOCACHE)"
}

# Runs a command with its output appended to the build log; on failure shows where to look.
run_logged() { # description command...
  local what="$1"
  shift
  printf '\n=== %s %s\n$ %s\n' "$(date -u +%FT%TZ)" "$what" "$*" >>"$LOG_FILE"
  if ! "$@" >>"$LOG_FILE" 2>&1; then
    log "FAILED: $what"
    log "build log: $LOG_FILE (last 30 lines follow)"
    tail -n 30 "$LOG_FILE" >&2
    exit 1
  fi
}

# Problems found while resolving modules; all are reported together before anything is built.
# The resolving functions below return their result in REPLY (not on stdout) so that they run in
# this shell and can add to UNAVAILABLE.
UNAVAILABLE=()
note_unavailable() { # label what error-text
  local status response
  status="$(printf '%s' "$3" | grep -oE '(: )[0-9]{3} [A-Z][A-Za-z ]*[a-z]' | head -n 1 || true)"
  response="$(printf '%s' "$3" | grep -oE 'server response: [^\\]*' | head -n 1 | sed 's/",\{0,1\}$//' || true)"
  if [ -n "$status" ]; then
    UNAVAILABLE+=("$1: $2 -> ${status#: }${response:+ (${response#server response: })}")
  else
    UNAVAILABLE+=("$1: $2 -> $(printf '%s' "$3" | tr -s '\n\t' '  ' | tail -c 200)")
  fi
}
show() { if [ -n "$1" ]; then printf '%s' "$2"; else printf 'UNAVAILABLE'; fi; } # value text

# REPLY := the version the proxy resolves QUERY (a version, tag or commit) to.
resolve_version() { # module query
  REPLY="$(go list -m -f '{{.Version}}' "$1@$2" 2>"$BUILD_DIR/.stderr")" || {
    REPLY="$(cat "$BUILD_DIR/.stderr")"
    printf '%s\n' "$REPLY" >>"$LOG_FILE"
    return 1
  }
}

# REPLY := the commit the proxy records for module@version (its Origin), the error text otherwise.
origin_hash() { # module version
  if ! REPLY="$(go list -m -f '{{with .Origin}}{{.Hash}}{{end}}' "$1@$2" 2>"$BUILD_DIR/.stderr")"; then
    REPLY="$(cat "$BUILD_DIR/.stderr")"
  elif [ -z "$REPLY" ]; then
    REPLY="the proxy records no commit for $1@$2"
  else
    return 0
  fi
  printf '%s\n' "$REPLY" >>"$LOG_FILE"
  return 1
}

# REPLY := directory of module@version in the module cache, after downloading its zip (go list -m
# alone only fetches .info, which the proxy may serve for versions whose zip it refuses).
fetch() { # label module version
  local out
  out="$(go mod download -json "$2@$3" 2>&1)" || true
  REPLY="$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  if [ -z "$REPLY" ] || [ ! -d "$REPLY" ]; then
    printf '%s\n' "$out" >>"$LOG_FILE"
    note_unavailable "$1" "$2@$3" "$out"
    REPLY=""
    return 1
  fi
}

# A module that lives next to a tagged sibling but has no tags of its own (the language host, the
# providers' provider/ modules) is fetched at the commit of the sibling's release tag; the proxy turns
# the commit into the canonical pseudo-version. REPLY := that version.
resolve_untagged() { # label module version sibling-module
  local label="$1" mod="$2" ver="$3" sibling="$4" hash
  resolve_version "$mod" "v$ver" && return 0
  if ! origin_hash "$sibling" "v$ver"; then
    note_unavailable "$label" "$sibling@v$ver (to find the release commit)" "$REPLY"
    return 1
  fi
  hash="$REPLY"
  if ! resolve_version "$mod" "$hash"; then
    note_unavailable "$label" "$mod@$hash (commit of $sibling v$ver)" "$REPLY"
    return 1
  fi
}

# Sets SDK_DIR PKG_DIR LANGHOST_DIR LANGHOST_VERSION (empty when unavailable).
resolve_cli_modules() {
  fetch "pulumi CLI (sdk)" "$PULUMI_SDK_MOD" "v$PULUMI_VERSION" || true
  SDK_DIR="$REPLY"
  fetch "pulumi CLI (pkg)" "$PULUMI_PKG_MOD" "v$PULUMI_VERSION" || true
  PKG_DIR="$REPLY"
  LANGHOST_VERSION="" LANGHOST_DIR=""
  if resolve_untagged "pulumi-language-nodejs" "$PULUMI_LANGHOST_MOD" "$PULUMI_VERSION" "$PULUMI_PKG_MOD"; then
    LANGHOST_VERSION="$REPLY"
    fetch "pulumi-language-nodejs" "$PULUMI_LANGHOST_MOD" "$LANGHOST_VERSION" || true
    LANGHOST_DIR="$REPLY"
  fi
  log "pulumi v$PULUMI_VERSION: sdk/v3 $(show "$SDK_DIR" ok), pkg/v3 $(show "$PKG_DIR" ok), language host $(show "$LANGHOST_DIR" "$LANGHOST_VERSION")"
}

# Sets PROVIDER_DIR_<name> (empty when unavailable).
resolve_plugin_module() { # name
  local name="$1" ver mod modver="" dir=""
  ver="$(plugin_version "$name")"
  mod="$(plugin_module "$name" provider)"
  if resolve_untagged "$name provider" "$mod" "$ver" "$(plugin_module "$name" sdk)"; then
    modver="$REPLY"
    fetch "$name provider" "$mod" "$modver" && dir="$REPLY"
  fi
  printf -v "PROVIDER_DIR_$name" '%s' "$dir"
  log "$name $ver: $mod $(show "$dir" "$modver")"
}

# Copies a module out of the read-only module cache into a fresh writable work directory.
copy_module() { # src dest
  rm -rf "$2"
  mkdir -p "$(dirname "$2")"
  cp -R "$1" "$2"
  chmod -R u+w "$2"
}

build_cli() {
  local work="$BUILD_DIR/pulumi-v$PULUMI_VERSION" start=$SECONDS
  local ldflags="-s -w -X $PULUMI_VERSION_VAR=v$PULUMI_VERSION"
  # pkg's go.mod replaces sdk with ../sdk, the language host's replaces both with ../../../../pkg and
  # ../../..: recreate the repository layout so those relative paths resolve.
  copy_module "$SDK_DIR" "$work/sdk"
  copy_module "$PKG_DIR" "$work/pkg"
  copy_module "$LANGHOST_DIR" "$work/sdk/nodejs/cmd/pulumi-language-nodejs"
  mkdir -p "$OUT_DIR"
  log "building pulumi v$PULUMI_VERSION (slow: ~8-15 min cold on 2 cores; log: $LOG_FILE)"
  run_logged "build pulumi" go -C "$work/pkg" build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "$ldflags" -o "$OUT_DIR/pulumi" ./cmd/pulumi
  log "built pulumi in $((SECONDS - start))s"
  start=$SECONDS
  log "building pulumi-language-nodejs v$PULUMI_VERSION"
  run_logged "build pulumi-language-nodejs" go -C "$work/sdk/nodejs/cmd/pulumi-language-nodejs" build -trimpath \
    -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$OUT_DIR/pulumi-language-nodejs" .
  log "built pulumi-language-nodejs in $((SECONDS - start))s"
  local got
  got="$(pulumi_version_of "$OUT_DIR/pulumi")"
  [ "$got" = "v$PULUMI_VERSION" ] || die "built pulumi reports version '$got', expected v$PULUMI_VERSION"
  # The official archive also ships the dynamic-provider launcher script; it comes with the sdk module.
  cp "$work/sdk/nodejs/dist/pulumi-resource-pulumi-nodejs" "$OUT_DIR/" 2>/dev/null || true
  install_cli_files "$OUT_DIR"
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

# Writes the nested shim module that the provider's go.mod points at with "=> ./shim" (it is not
# part of the provider's module zip). The shim re-exports the upstream Terraform provider constructor.
write_shim() { # provider-work-dir
  local prov="$1" shim_mod upstream upstream_ver go_ver
  shim_mod="$(sed -n 's#^[[:space:]]*\(replace[[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*/shim\)[[:space:]]*=>[[:space:]]*\./shim[[:space:]]*$#\2#p' "$prov/go.mod" | head -n 1)"
  [ -n "$shim_mod" ] || return 0
  [ -f "$prov/shim/go.mod" ] && return 0
  upstream="${shim_mod%/shim}"
  upstream_ver="$(sed -n "s#^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}${upstream}[[:space:]]\{1,\}\(v[^[:space:]]*\).*#\2#p" "$prov/go.mod" | head -n 1)"
  [ -n "$upstream_ver" ] || die "$prov/go.mod replaces $shim_mod with ./shim but does not require $upstream"
  go_ver="$(sed -n 's/^go[[:space:]]\{1,\}\([0-9.]*\).*/\1/p' "$prov/go.mod")"
  mkdir -p "$prov/shim"
  cat >"$prov/shim/go.mod" <<EOF
module $shim_mod

go $go_ver

require $upstream $upstream_ver
EOF
  cat >"$prov/shim/shim.go" <<EOF
// Package shim is generated by etcd-pulumi's scripts/setup-pulumi.sh. The upstream provider keeps its
// constructor in an internal package, which only a module under $upstream may import.
package shim

import upstream "$upstream/internal/provider"

// NewProvider returns the upstream Terraform provider, whatever its concrete type.
var NewProvider = upstream.New
EOF
  log "wrote shim module $shim_mod (upstream $upstream $upstream_ver)"
}

# schema-embed.json (gitignored upstream) is schema.json with "version" set to the plugin version.
write_schema_embed() { # cmd-dir version
  local cmd="$1" ver="$2" tool="$BUILD_DIR/tools/setversion.go"
  [ -f "$cmd/schema.json" ] && grep -q 'schema-embed.json' "$cmd"/*.go 2>/dev/null || return 0
  mkdir -p "$(dirname "$tool")"
  cat >"$tool" <<'EOF'
// Sets the top-level "version" of a Pulumi package schema: setversion <in> <out> <version>.
package main

import (
	"encoding/json"
	"os"
)

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(err)
	}
	doc["version"], _ = json.Marshal(os.Args[3])
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		panic(err)
	}
}
EOF
  run_logged "generate $cmd/schema-embed.json" go run "$tool" "$cmd/schema.json" "$cmd/schema-embed.json" "$ver"
}

# Checks that a built plugin carries its version: "-version" where the plugin supports it; otherwise
# the -X target symbol must exist in the binary (a mistyped -X path is silently ignored by the linker).
verify_plugin_version() { # binary version version-var
  local bin="$1" ver="$2" var="$3" out
  out="$(timeout 20 "$bin" -version </dev/null 2>&1 | head -n 1 || true)"
  if [ "${out#v}" = "$ver" ]; then
    return 0
  fi
  if printf '%s' "$out" | grep -q 'flag provided but not defined' &&
    go tool nm "$bin" 2>>"$LOG_FILE" | grep -q "[[:space:]]$var\$"; then
    log "$(basename "$bin") has no -version flag; checked that $var exists and was set by -X"
    return 0
  fi
  die "$(basename "$bin") -version printed '$out', expected $ver (is -X $var right?)"
}

build_plugin() { # name
  local name="$1" ver mod dir work cmd var start=$SECONDS
  ver="$(plugin_version "$name")"
  mod="$(plugin_module "$name" provider)"
  dir="PROVIDER_DIR_$name"
  dir="${!dir}"
  work="$BUILD_DIR/$name-v$ver"
  cmd="$work/provider/cmd/pulumi-resource-$name"
  var="$mod/pkg/version.Version"
  copy_module "$dir" "$work/provider"
  write_shim "$work/provider"
  write_schema_embed "$cmd" "$ver"
  log "building pulumi-resource-$name $ver (log: $LOG_FILE)"
  run_logged "build pulumi-resource-$name" go -C "$work/provider" build -trimpath \
    -ldflags "-X $var=$ver" -o "$OUT_DIR/pulumi-resource-$name" "./cmd/pulumi-resource-$name"
  verify_plugin_version "$OUT_DIR/pulumi-resource-$name" "$ver" "$var"
  log "built pulumi-resource-$name $ver in $((SECONDS - start))s"
  install_plugin "$name" "$OUT_DIR/pulumi-resource-$name"
}

install_plugin() { # name file-or-archive
  local name="$1" ver
  ver="$(plugin_version "$name")"
  run_logged "install plugin $name $ver" "$BIN_DIR/pulumi" plugin install resource "$name" "$ver" --file "$2" --reinstall
  log "installed plugin $name $ver into $PULUMI_HOME/plugins"
}

report_unavailable() {
  local item
  log "cannot build the pinned toolchain: the Go module proxy does not serve these (status from the proxy):"
  for item in "${UNAVAILABLE[@]}"; do
    log "  - $item"
  done
  log "details: $LOG_FILE. Nothing was installed. Either make these versions reachable (GOPROXY, or"
  log "get.pulumi.com) or change the pins in scripts/env.sh and package.json to versions the proxy serves."
  exit 1
}

# ---------------------------------------------------------------------------------------------
main() {
  local start=$SECONDS need_cli=0 todo name archive
  mkdir -p "$BUILD_DIR"
  cd "$BUILD_DIR" # go commands below must not pick up some unrelated go.mod
  exec 9>>"$BUILD_DIR/.lock"
  flock 9 || die "could not lock $BUILD_DIR/.lock"

  if cli_installed || adopt_cli_from_path; then
    log "pulumi v$PULUMI_VERSION and pulumi-language-nodejs present in $BIN_DIR"
  else
    need_cli=1
  fi
  todo="$(missing_plugins)"
  if [ "$need_cli" = 0 ] && [ -z "$todo" ]; then
    verify_installation
    log "nothing to do ($((SECONDS - start))s)"
    return 0
  fi
  if [ "$need_cli" = 1 ]; then
    log "to install: pulumi v$PULUMI_VERSION + pulumi-language-nodejs${todo:+; plugins: ${todo% }}"
  else
    log "to install: plugins: ${todo% }"
  fi

  if official_reachable; then
    [ "$need_cli" = 0 ] || download_cli || die "download of pulumi v$PULUMI_VERSION failed"
    need_cli=0
    for name in $todo; do
      if archive="$(download_plugin "$name")"; then
        install_plugin "$name" "$archive"
        todo="${todo/$name /}"
      else
        log "no official archive for $name $(plugin_version "$name"): will build it"
      fi
    done
  fi

  if [ "$need_cli" = 1 ] || [ -n "$todo" ]; then
    require_go
    : >>"$LOG_FILE"
    log "resolving modules at the proxy ($(go env GOPROXY)); details go to $LOG_FILE"
    [ "$need_cli" = 0 ] || resolve_cli_modules
    for name in $todo; do
      resolve_plugin_module "$name"
    done
    [ "${#UNAVAILABLE[@]}" = 0 ] || report_unavailable
    [ "$need_cli" = 0 ] || build_cli
    for name in $todo; do
      build_plugin "$name"
    done
  fi
  verify_installation
  log "done in $((SECONDS - start))s"
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

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
