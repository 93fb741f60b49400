#!/usr/bin/env bash
# Provide etcd release archives in the upstream release layout:
#
#   $ETCD_RELEASES_DIR/vV/etcd-vV-linux-amd64.tar.gz   (top dir etcd-vV-linux-amd64/ with etcd, etcdctl, etcdutl)
#   $ETCD_RELEASES_DIR/vV/SHA256SUMS                   ("<sha256>  etcd-vV-linux-amd64.tar.gz")
#
# For each version, in this order:
#   1. archive present and matching SHA256SUMS -> nothing to do;
#   2. official release download (skipped when ETCD_PULUMI_OFFLINE=1, or when a 5 s probe fails);
#   3. build from the Go modules on the module proxy: each etcd module is copied out of the module cache
#      into the repository's relative layout (server/, etcdctl/, etcdutl/, api/, client/v3, ...) so the
#      relative replace directives in their go.mod files resolve, then the three mains are built statically.
# A freshly obtained archive is always checked (versions + a loopback etcd answering `endpoint health`)
# before it is published; --verify also checks archives that were already present.
#
# Usage: scripts/setup-etcd.sh [--verify] [--rebuild] [VERSION...]
#   VERSION   e.g. 3.6.16 or v3.6.16; default: $ETCD_VERSION_DEFAULT and $ETCD_VERSION_PREVIOUS
#   --verify  also run the checks on archives that are already present
#   --rebuild ignore present archives and official downloads; build from Go modules again
# Environment: ETCD_PULUMI_OFFLINE=1 (no download attempt), ETCD_RELEASE_BASE_URL (download mirror),
#   ETCD_BUILD_GIT_SHA (value stamped as the Git SHA of a local build).
set -euo pipefail

# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

readonly OS_ARCH="linux-amd64"
readonly MIN_GO="1.26"
readonly RELEASE_BASE_URL="${ETCD_RELEASE_BASE_URL:-https://github.com/etcd-io/etcd/releases/download}"
# Absolute paths, since the build changes directory.
ETCD_RELEASES_DIR="$(realpath -m -- "$ETCD_RELEASES_DIR")"
BUILD_ROOT="$(realpath -m -- "$ETCD_PULUMI_CACHE")/etcd-build"
readonly BUILD_ROOT
# The three programs of a release: binary name and the module (= directory in the repository) holding main.
readonly MAIN_DIRS=("server" "etcdctl" "etcdutl")
readonly MAIN_BINS=("etcd" "etcdctl" "etcdutl")
readonly GIT_SHA_SYMBOL="go.etcd.io/etcd/api/v3/version.GitSHA"

log() { printf '[setup-etcd] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

usage() {
  sed -n '/^# Usage:/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
}

# ---------------------------------------------------------------------------------------------------
# Cleanup of temporary directories and of any etcd started for a check.
TMP_DIRS=()
CHECK_PID=""
cleanup() {
  if [[ -n "$CHECK_PID" ]]; then
    kill -KILL "$CHECK_PID" 2>/dev/null || true
    wait "$CHECK_PID" 2>/dev/null || true
  fi
  local d
  for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do
    rm -rf -- "$d"
  done
}
trap cleanup EXIT

new_tmp() { # new_tmp VAR: create a temporary directory (removed on exit) and store its path in VAR
  local d
  d="$(mktemp -d "${TMPDIR:-/tmp}/setup-etcd.XXXXXX")"
  TMP_DIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

# The log of the current version's work; on failure its path and tail are shown.
CURRENT_LOG=""
fail_with_log() {
  log "ERROR: $*"
  if [[ -n "$CURRENT_LOG" && -f "$CURRENT_LOG" ]]; then
    log "log: $CURRENT_LOG (last 30 lines follow)"
    tail -n 30 -- "$CURRENT_LOG" >&2
  fi
  exit 1
}

# ---------------------------------------------------------------------------------------------------
# Archive bookkeeping.
archive_name() { printf 'etcd-v%s-%s.tar.gz' "$1" "$OS_ARCH"; }
release_dir() { printf '%s/v%s' "$ETCD_RELEASES_DIR" "$1"; }

# sums_line FILE NAME: the checksum line for NAME in a sha256sum-format FILE (text or binary mode marker).
# (No regex intervals: Debian's default awk is mawk.)
sums_line() {
  awk -v n="$2" '($2 == n || $2 == "*" n) && length($1) == 64 && $1 ~ /^[0-9a-fA-F]+$/ { print $1 "  " n; exit }' "$1"
}

# archive_ok V: the published archive exists and matches its SHA256SUMS.
archive_ok() {
  local dir name line
  dir="$(release_dir "$1")"
  name="$(archive_name "$1")"
  [[ -f "$dir/$name" && -f "$dir/SHA256SUMS" ]] || return 1
  line="$(sums_line "$dir/SHA256SUMS" "$name")"
  [[ -n "$line" ]] || return 1
  (cd "$dir" && printf '%s\n' "$line" | sha256sum --check --status --strict -)
}

archive_sha() { awk '{ print $1; exit }' "$(release_dir "$1")/SHA256SUMS"; }

# publish V TARBALL: move a checked archive into place; SHA256SUMS is written last, so an interrupted
# publish never leaves a pair that looks valid.
publish() {
  local v="$1" tgz="$2" dir name sum
  dir="$(release_dir "$v")"
  name="$(archive_name "$v")"
  mkdir -p -- "$dir"
  sum="$(sha256sum -- "$tgz" | awk '{ print $1 }')"
  rm -f -- "$dir/SHA256SUMS"
  cp -- "$tgz" "$dir/.$name.tmp"
  mv -f -- "$dir/.$name.tmp" "$dir/$name"
  printf '%s  %s\n' "$sum" "$name" >"$dir/.SHA256SUMS.tmp"
  mv -f -- "$dir/.SHA256SUMS.tmp" "$dir/SHA256SUMS"
  archive_ok "$v" || die "v$v: published archive does not match its SHA256SUMS (disk problem?)"
}

# ---------------------------------------------------------------------------------------------------
# Checks of an archive: layout, versions, and a short-lived single-node etcd on loopback.

# Run a binary of the archive with a clean environment: etcd reads ETCD_* and etcdctl ETCDCTL_* variables
# as flags, and this project's own ETCD_PULUMI_* variables must not leak into them.
run_clean() { env -i PATH="/usr/bin:/bin" HOME="$CHECK_HOME" "$@"; }

# check_archive V TARBALL: exit with a message if the archive is not a working etcd release V.
check_archive() {
  local v="$1" tgz="$2" top tmp bad
  top="etcd-v$v-$OS_ARCH"
  new_tmp tmp
  # Every entry must live under the top directory, and the three binaries must be there.
  tar -tzf "$tgz" >"$tmp/.listing" || fail_with_log "v$v: $tgz is not a readable .tar.gz"
  bad="$(awk -v t="$top" '$0 != t && $0 != t "/" && index($0, t "/") != 1 { print; if (++n == 3) exit }' "$tmp/.listing")"
  [[ -z "$bad" ]] || fail_with_log "v$v: archive has entries outside $top/: $bad"
  tar -xzf "$tgz" -C "$tmp" --no-same-owner
  local bin
  for bin in "${MAIN_BINS[@]}"; do
    [[ -f "$tmp/$top/$bin" && -x "$tmp/$top/$bin" ]] || fail_with_log "v$v: $top/$bin missing or not executable"
  done
  check_binaries "$v" "$tmp/$top"
}

CHECK_HOME=""
# check_binaries V DIR: versions printed by the three binaries, then a loopback health check.
check_binaries() {
  local v="$1" dir="$2" out
  new_tmp CHECK_HOME
  out="$(run_clean "$dir/etcd" --version 2>&1)" || fail_with_log "v$v: 'etcd --version' failed: $out"
  grep -qx "etcd Version: $v" <<<"$out" || fail_with_log "v$v: 'etcd --version' says: $(tr '\n' ' ' <<<"$out")"
  out="$(run_clean "$dir/etcdctl" version 2>&1)" || fail_with_log "v$v: 'etcdctl version' failed: $out"
  grep -qx "etcdctl version: $v" <<<"$out" || fail_with_log "v$v: 'etcdctl version' says: $(tr '\n' ' ' <<<"$out")"
  out="$(run_clean "$dir/etcdutl" version 2>&1)" || fail_with_log "v$v: 'etcdutl version' failed: $out"
  grep -qx "etcdutl version: $v" <<<"$out" || fail_with_log "v$v: 'etcdutl version' says: $(tr '\n' ' ' <<<"$out")"
  local attempt
  for attempt in 1 2 3 4 5; do
    if loopback_check "$v" "$dir"; then
      return 0
    fi
    [[ "$LOOPBACK_RETRY" == "yes" ]] || break
    log "v$v: port clash on attempt $attempt, retrying with other ports"
  done
  {
    printf '=== loopback etcd log (%s)\n' "$LOOPBACK_LOG"
    cat -- "$LOOPBACK_LOG"
  } >>"$CURRENT_LOG" 2>&1 || true
  fail_with_log "v$v: etcd did not become healthy on loopback (etcd log: $LOOPBACK_LOG)"
}

port_free() { [[ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]]; }

LOOPBACK_RETRY="no"
LOOPBACK_LOG=""
# loopback_check V DIR: start etcd on 127.0.0.1 with random high ports and a temp data dir, wait for
# `etcdctl endpoint health`, do a put/get round trip, stop it. Sets LOOPBACK_RETRY=yes on a port clash.
loopback_check() {
  local v="$1" dir="$2" data cport pport url i healthy="no" got
  LOOPBACK_RETRY="no"
  new_tmp data
  cport="$(shuf -i 20000-59998 -n 1)"
  pport="$((cport + 1))"
  if ! port_free "$cport" || ! port_free "$pport"; then
    LOOPBACK_RETRY="yes"
    return 1
  fi
  url="http://127.0.0.1:$cport"
  LOOPBACK_LOG="$BUILD_ROOT/v$v/loopback-etcd.log"
  mkdir -p -- "$BUILD_ROOT/v$v"
  # Started through env (no shell function) so that $! is etcd itself; fd 9 (the run lock) stays here.
  env -i PATH="/usr/bin:/bin" HOME="$CHECK_HOME" "$dir/etcd" \
    --name "check" \
    --data-dir "$data/etcd" \
    --listen-client-urls "$url" \
    --advertise-client-urls "$url" \
    --listen-peer-urls "http://127.0.0.1:$pport" \
    --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "check=http://127.0.0.1:$pport" \
    --initial-cluster-state "new" \
    --log-level "warn" \
    >"$LOOPBACK_LOG" 2>&1 9>&- &
  CHECK_PID="$!"
  for ((i = 0; i < 60; i++)); do
    if ! kill -0 "$CHECK_PID" 2>/dev/null; then
      break
    fi
    if run_clean "$dir/etcdctl" --endpoints="$url" --dial-timeout=1s --command-timeout=2s \
      endpoint health >>"$LOOPBACK_LOG" 2>&1; then
      healthy="yes"
      break
    fi
    sleep 0.5
  done
  if [[ "$healthy" == "yes" ]]; then
    got=""
    if run_clean "$dir/etcdctl" --endpoints="$url" --command-timeout=5s put setup-etcd-check "ok-$v" >>"$LOOPBACK_LOG" 2>&1; then
      got="$(run_clean "$dir/etcdctl" --endpoints="$url" --command-timeout=5s get --print-value-only setup-etcd-check 2>>"$LOOPBACK_LOG" || true)"
    fi
    [[ "$got" == "ok-$v" ]] || healthy="no"
  fi
  kill -TERM "$CHECK_PID" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    kill -0 "$CHECK_PID" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL "$CHECK_PID" 2>/dev/null || true
  wait "$CHECK_PID" 2>/dev/null || true
  CHECK_PID=""
  if [[ "$healthy" != "yes" ]] && grep -q "address already in use" "$LOOPBACK_LOG"; then
    LOOPBACK_RETRY="yes"
  fi
  [[ "$healthy" == "yes" ]]
}

# ---------------------------------------------------------------------------------------------------
# Source 2: the official release.

# try_download V: returns 0 with the archive published, 1 when the release is unreachable.
try_download() {
  local v="$1" name tmp err line sum
  if [[ "${ETCD_PULUMI_OFFLINE:-}" == "1" ]]; then
    log "v$v: ETCD_PULUMI_OFFLINE=1, not trying the official download"
    return 1
  fi
  name="$(archive_name "$v")"
  new_tmp tmp
  if ! err="$(curl -fsSL --max-time 5 -o "$tmp/SHA256SUMS" "$RELEASE_BASE_URL/v$v/SHA256SUMS" 2>&1)"; then
    log "v$v: official release not reachable ($(head -n 1 <<<"$err")), building from Go modules"
    return 1
  fi
  line="$(sums_line "$tmp/SHA256SUMS" "$name")"
  if [[ -z "$line" ]]; then
    log "v$v: official SHA256SUMS has no line for $name, building from Go modules"
    return 1
  fi
  log "v$v: downloading $RELEASE_BASE_URL/v$v/$name"
  if ! curl -fsSL --max-time 900 --retry 2 -o "$tmp/$name" "$RELEASE_BASE_URL/v$v/$name" >>"$CURRENT_LOG" 2>&1; then
    fail_with_log "v$v: download of $name failed after a successful probe"
  fi
  sum="$(sha256sum -- "$tmp/$name" | awk '{ print $1 }')"
  [[ "$sum  $name" == "$line" ]] || fail_with_log "v$v: downloaded $name does not match the official SHA256SUMS"
  log "v$v: checking the downloaded archive"
  check_archive "$v" "$tmp/$name"
  publish "$v" "$tmp/$name"
  return 0
}

# ---------------------------------------------------------------------------------------------------
# Source 3: build from Go modules.

require_go() {
  if ! command -v go >/dev/null 2>&1; then
    die "Go is not installed, and building etcd needs it (the official download is switched off or unreachable). Install Go >= $MIN_GO" \
      "for linux-amd64 (the go$MIN_GO.x tarball from https://go.dev/dl/ unpacked into /usr/local/go;" \
      "scripts/env.sh puts /usr/local/go/bin on PATH; Debian bookworm's golang-go is too old) and re-run."
  fi
  local have
  have="$(go env GOVERSION)"
  have="${have#go}"
  if ! version_at_least "$have" "$MIN_GO"; then
    die "Go $have is too old to build etcd: install Go >= $MIN_GO for linux-amd64" \
      "(the go$MIN_GO.x tarball from https://go.dev/dl/ unpacked into /usr/local/go) and re-run."
  fi
}

# version_at_least HAVE WANT (dotted numbers)
version_at_least() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" == "$2" ]]; }

# gomod_entries FILE: print "require PATH VERSION" and "replace OLD NEW" lines of a go.mod file.
gomod_entries() {
  awk '
    function handle(kw, rest,   n, lhs, rhs, a, b) {
      if (kw == "require") {
        if (split(rest, a, " ") >= 2) print "require", a[1], a[2]
      } else if (kw == "replace") {
        n = index(rest, "=>")
        if (!n) return
        lhs = substr(rest, 1, n - 1); rhs = substr(rest, n + 2)
        if (split(lhs, a, " ") >= 1 && split(rhs, b, " ") >= 1) print "replace", a[1], b[1]
      }
    }
    {
      sub(/\/\/.*/, ""); gsub(/\t/, " "); gsub(/^ +| +$/, ""); gsub(/"/, "")
      if ($0 == "") next
      if (block != "") {
        if ($0 == ")") { block = ""; next }
        handle(block, $0); next
      }
      if (($1 == "require" || $1 == "replace") && $2 == "(") { block = $1; next }
      if ($1 == "require" || $1 == "replace") handle($1, substr($0, length($1) + 2))
    }
  ' "$1"
}

gomod_go_version() { awk '$1 == "go" { print $2; exit }' "$1"; }

# Module state for one build: placed directory (relative to the layout root) -> "module@version".
declare -A PLACED=()
PLACED_ORDER=()
BUILD_GIT_SHA=""

# place_module MODULE VERSION RELDIR SRCROOT: copy MODULE@VERSION from the module cache to SRCROOT/RELDIR,
# then follow its relative replace directives.
place_module() {
  local mod="$1" ver="$2" rel="$3" src="$4" json dir hash
  if [[ -n "${PLACED[$rel]:-}" ]]; then
    if [[ "${PLACED[$rel]}" != "$mod@$ver" ]]; then
      log "v$BUILD_VERSION: note: $rel holds ${PLACED[$rel]}; $mod@$ver also wants it (kept the first)"
      printf 'note: %s holds %s; %s@%s also wants it\n' "$rel" "${PLACED[$rel]}" "$mod" "$ver" >>"$CURRENT_LOG"
    fi
    return 0
  fi
  printf '+ go mod download -json %s@%s\n' "$mod" "$ver" >>"$CURRENT_LOG"
  if ! json="$(go mod download -json "$mod@$ver" 2>>"$CURRENT_LOG")"; then
    printf '%s\n' "$json" >>"$CURRENT_LOG"
    fail_with_log "v$BUILD_VERSION: 'go mod download $mod@$ver' failed"
  fi
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" | head -n 1)"
  [[ -n "$dir" && -f "$dir/go.mod" ]] || fail_with_log "v$BUILD_VERSION: no module directory for $mod@$ver"
  # If the proxy tells the commit the tag points at, it becomes the Git SHA, as in an upstream build.
  if [[ -z "$BUILD_GIT_SHA" ]]; then
    hash="$(sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{7,\}\)",\{0,1\}$/\1/p' <<<"$json" | head -n 1)"
    [[ -z "$hash" ]] || BUILD_GIT_SHA="${hash:0:7}"
  fi
  mkdir -p -- "$src/$rel"
  cp -R -- "$dir/." "$src/$rel/"
  chmod -R u+w -- "$src/$rel"
  PLACED["$rel"]="$mod@$ver"
  PLACED_ORDER+=("$rel")
  printf 'placed %s@%s at %s\n' "$mod" "$ver" "$rel" >>"$CURRENT_LOG"

  local kind a b target req_ver
  local -a reps=()
  local -A reqs=()
  while read -r kind a b; do
    case "$kind" in
    require) reqs["$a"]="$b" ;;
    replace) reps+=("$a $b") ;;
    esac
  done < <(gomod_entries "$src/$rel/go.mod")
  local r
  for r in "${reps[@]+"${reps[@]}"}"; do
    a="${r%% *}"
    b="${r#* }"
    case "$b" in ./* | ../*) ;; *) continue ;; esac
    [[ "$(basename -- "$b")" != "FORBIDDEN_DEPENDENCY" ]] || continue
    req_ver="${reqs[$a]:-}"
    if [[ -z "$req_ver" ]]; then
      printf 'skip replace %s => %s in %s: not required there\n' "$a" "$b" "$rel" >>"$CURRENT_LOG"
      continue
    fi
    target="$(realpath -m --relative-to="$src" -- "$src/$rel/$b")"
    case "$target" in ..* | /* | .) fail_with_log "v$BUILD_VERSION: replace $a => $b in $rel leaves the layout" ;; esac
    place_module "$a" "$req_ver" "$target" "$src"
  done
}

BUILD_VERSION=""
# build V: build the three binaries from Go modules, package them reproducibly, check and publish.
build_from_modules() {
  local v="$1" bdir src out stage top tgz i go_want t0 buildinfo
  t0="$SECONDS"
  BUILD_VERSION="$v"
  require_go
  bdir="$BUILD_ROOT/v$v"
  src="$bdir/src"
  out="$bdir/out"
  stage="$bdir/stage"
  top="etcd-v$v-$OS_ARCH"
  rm -rf -- "$src" "$out" "$stage"
  mkdir -p -- "$src" "$out" "$stage/$top"

  # Pinned build environment; Go's module and build caches stay the default ones.
  export GOWORK=off GOTOOLCHAIN=local GO111MODULE=on CGO_ENABLED=0 GOOS=linux GOARCH=amd64
  export GOFLAGS="-buildvcs=false -mod=readonly"
  {
    printf '=== build etcd v%s from Go modules (%s)\n' "$v" "$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    go version
    go env GOPROXY GOMODCACHE GOCACHE
  } >>"$CURRENT_LOG" 2>&1

  log "v$v: fetching etcd modules into $src"
  PLACED=()
  PLACED_ORDER=()
  BUILD_GIT_SHA=""
  # `go mod download` runs outside any module: from the (go.mod-free) build directory.
  cd "$bdir"
  for i in "${!MAIN_DIRS[@]}"; do
    place_module "go.etcd.io/etcd/${MAIN_DIRS[$i]}/v3" "v$v" "${MAIN_DIRS[$i]}" "$src"
  done
  local placed="" rel
  for rel in "${PLACED_ORDER[@]}"; do
    placed+="$rel=${PLACED[$rel]##*@} "
  done
  log "v$v: modules placed: ${placed% }"
  for i in "${!MAIN_DIRS[@]}"; do
    go_want="$(gomod_go_version "$src/${MAIN_DIRS[$i]}/go.mod")"
    if [[ -n "$go_want" ]] && ! version_at_least "$(go env GOVERSION | sed 's/^go//')" "$go_want"; then
      die "v$v: ${MAIN_DIRS[$i]}/go.mod needs Go >= $go_want but $(go env GOVERSION) is installed;" \
        "install Go >= $go_want for linux-amd64 from https://go.dev/dl/ into /usr/local/go and re-run."
    fi
  done

  local sha="${ETCD_BUILD_GIT_SHA:-${BUILD_GIT_SHA:-GitNotFound}}"
  for i in "${!MAIN_DIRS[@]}"; do
    log "v$v: go build ${MAIN_BINS[$i]} (from ${MAIN_DIRS[$i]}/; log: $CURRENT_LOG)"
    printf '+ (cd %s && go build -trimpath -ldflags=-X=%s=%s -o %s .)\n' \
      "$src/${MAIN_DIRS[$i]}" "$GIT_SHA_SYMBOL" "$sha" "$out/${MAIN_BINS[$i]}" >>"$CURRENT_LOG"
    (cd "$src/${MAIN_DIRS[$i]}" && go build -trimpath "-ldflags=-X=$GIT_SHA_SYMBOL=$sha" \
      -o "$out/${MAIN_BINS[$i]}" .) >>"$CURRENT_LOG" 2>&1 ||
      fail_with_log "v$v: go build of ${MAIN_BINS[$i]} failed"
    # Static and path-free, as the release binaries are.
    buildinfo="$(go version -m "$out/${MAIN_BINS[$i]}")" ||
      fail_with_log "v$v: 'go version -m' cannot read ${MAIN_BINS[$i]}"
    printf '%s\n' "$buildinfo" >>"$CURRENT_LOG"
    grep -q 'CGO_ENABLED=0' <<<"$buildinfo" ||
      fail_with_log "v$v: ${MAIN_BINS[$i]} was not built with CGO_ENABLED=0"
    grep -q -- '-trimpath=true' <<<"$buildinfo" ||
      fail_with_log "v$v: ${MAIN_BINS[$i]} was not built with -trimpath"
    install -m 0755 -- "$out/${MAIN_BINS[$i]}" "$stage/$top/${MAIN_BINS[$i]}"
  done

  # Reproducible archive: fixed order, times, owners and modes; gzip without name/time.
  chmod 0755 -- "$stage/$top"
  tgz="$bdir/$(archive_name "$v")"
  tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -C "$stage" -cf - "$top" | gzip -n -9 >"$tgz.tmp"
  mv -f -- "$tgz.tmp" "$tgz"

  log "v$v: checking the built archive (versions, loopback etcd health)"
  check_archive "$v" "$tgz"
  publish "$v" "$tgz"
  # Keep the source layout and logs for inspection; drop the copies of the binaries.
  rm -rf -- "$out" "$stage" "$tgz"
  log "v$v: built from Go modules in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------------------
main() {
  local verify="no" rebuild="no" arg
  local -a versions=()
  for arg in "$@"; do
    case "$arg" in
    --verify) verify="yes" ;;
    --rebuild) rebuild="yes" ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage
      die "unknown option: $arg"
      ;;
    *)
      arg="${arg#v}"
      [[ "$arg" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "not an etcd version: $arg"
      versions+=("$arg")
      ;;
    esac
  done
  if [[ "${#versions[@]}" -eq 0 ]]; then
    versions=("$ETCD_VERSION_DEFAULT" "$ETCD_VERSION_PREVIOUS")
  fi

  mkdir -p -- "$ETCD_RELEASES_DIR" "$BUILD_ROOT"
  # One run at a time: a second run waits, then finds the archives in place.
  exec 9>"$BUILD_ROOT/.lock"
  if ! flock -n 9; then
    log "another setup-etcd run holds $BUILD_ROOT/.lock, waiting"
    flock 9
  fi

  local v seen=" " t0 name
  for v in "${versions[@]}"; do
    [[ "$seen" != *" $v "* ]] || continue
    seen+="$v "
    t0="$SECONDS"
    name="$(archive_name "$v")"
    CURRENT_LOG="$BUILD_ROOT/v$v/setup.log"
    if [[ "$rebuild" != "yes" ]] && archive_ok "$v"; then
      if [[ "$verify" == "yes" ]]; then
        mkdir -p -- "$BUILD_ROOT/v$v"
        CURRENT_LOG="$BUILD_ROOT/v$v/verify.log"
        : >"$CURRENT_LOG"
        log "v$v: present; checking it (--verify)"
        check_archive "$v" "$(release_dir "$v")/$name"
        log "v$v: checks passed"
      fi
      log "v$v: ok $(release_dir "$v")/$name sha256=$(archive_sha "$v") (already present)"
      continue
    fi
    mkdir -p -- "$BUILD_ROOT/v$v"
    : >"$CURRENT_LOG"
    if [[ "$rebuild" == "yes" ]]; then
      log "v$v: --rebuild, building from Go modules"
    elif [[ -e "$(release_dir "$v")/$name" || -e "$(release_dir "$v")/SHA256SUMS" ]]; then
      log "v$v: present but not matching SHA256SUMS, obtaining it again"
    else
      log "v$v: not present, obtaining it"
    fi
    if [[ "$rebuild" == "yes" ]] || ! try_download "$v"; then
      build_from_modules "$v"
    fi
    log "v$v: ok $(release_dir "$v")/$name sha256=$(archive_sha "$v") ($((SECONDS - t0)) s)"
  done
}

main "$@"
