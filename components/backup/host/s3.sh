# shellcheck shell=bash
# The S3 client of the backup programs on an etcd host: sourced by them, never run on its own.
# It needs only what a stock Debian 12, Ubuntu 22.04+ or RHEL 9 server has: bash >= 4.4, coreutils
# (sha256sum, dd, stat, date, mktemp), curl >= 7.76, grep, sed and awk (openssl, when present, hashes files faster).
# It signs requests itself (AWS Signature Version 4: bash builtins and sha256sum): curl's own --aws-sigv4
# does not sign x-amz-content-sha256 (curl < 7.86) or ignores its value (< 7.87), and S3 then refuses every
# upload; RHEL 9 ships curl 7.76 and Ubuntu 22.04 curl 7.81. curl only carries the signed request.
#
# Settings, from the env file the backup programs read:
#   S3_ENDPOINT          https://host[:port] of the store; empty: AWS S3 in S3_REGION (https://s3.<region>.amazonaws.com)
#   S3_REGION            the region requests are signed for, e.g. us-east-1 (required)
#   S3_BUCKET            the bucket (required)
#   S3_PREFIX            key prefix, may be empty: every KEY below is relative to it (the object is <prefix>/<KEY>)
#   S3_PATH_STYLE        true: https://endpoint/bucket/key; false: https://bucket.endpoint/key
#                        (default: true with an S3_ENDPOINT, false for AWS S3)
#   S3_CA_FILE           a PEM bundle that verifies the endpoint, instead of the system's trust store (optional)
#   S3_CREDENTIALS_FILE  the access key and its secret (format below; required)
#   S3_CONNECT_TIMEOUT   seconds to connect, TLS handshake included (default 10)
#   S3_MAX_TIME          seconds one request may take in all (default 900)
#   S3_STALL_SECONDS     a request that moves no byte for this long fails (default 60)
#   S3_RETRIES           retries of a request after a network error, a timeout or HTTP 408/429/5xx, waiting
#                        1 s, then 2 s, 4 s, ... (default 3); a request therefore fails after at most
#                        (S3_RETRIES + 1) x S3_MAX_TIME plus those waits
#   S3_MULTIPART_BYTES   files larger than this are uploaded in parts (default 268435456 = 256 MiB; at most 5 GiB,
#                        the largest single upload S3 takes)
#   S3_PART_BYTES        size of every part but the last (default 67108864 = 64 MiB; at least 5 MiB, S3's minimum;
#                        raised when a file would need more than 10000 parts)
#   S3_LIST_PAGE_KEYS    keys asked for per listing page (default 1000, S3's maximum)
#   S3_CHECK_DOWNLOAD    false: s3_get skips its check of the download against the recorded SHA-256 (for
#                        objects the caller authenticates itself; default true)
#   S3_TMPDIR            where the parts of a multipart upload are cut, one at a time (default $TMPDIR or /tmp)
#
# S3_CREDENTIALS_FILE holds one line, in curl's config file syntax,
#     user = "<access key id>:<secret access key>"
# (inside the quotes a backslash is written \\ and a double quote \"). It must belong to the user that runs
# the backup (root) and be readable by that user only (mode 0600 or 0400). It is read with bash builtins
# and the secret stays in this shell's memory: never on a command line, in the environment, in a file
# other than that one, or in any message (xtrace is switched off inside these functions).
#
# Functions. Each returns 0 on success. On failure it returns non-zero and prints one line on stderr that
# names this host, the operation, the object and the cause (S3's error code and message, or curl's network
# or TLS error), never the secret. 3 means the object does not exist.
#   s3_put LOCAL_FILE KEY   upload; the server checks every byte against the SHA-256 sent with it
#                           (x-amz-content-sha256, per part for a multipart upload); the file's SHA-256 is kept
#                           with the object (x-amz-meta-content-sha256); a failed multipart upload is aborted
#   s3_get KEY LOCAL_FILE   download to LOCAL_FILE (mode 0600, replaced atomically), checked against the
#                           SHA-256 kept with the object when it has one
#   s3_stream KEY [FIRST LAST]
#                           the object's bytes (FIRST..LAST, counted from 0, both included) on standard
#                           output, unchecked and without retries (a retried transfer would repeat bytes):
#                           for a caller that authenticates what it reads; on an HTTP error the body S3
#                           sends goes to the output too, and the status names the cause
#   s3_head KEY             print the object's size in bytes
#   s3_list PREFIX          print the keys under PREFIX (relative to S3_PREFIX, like KEY), one per line, every
#                           page; nothing is printed unless the whole listing succeeded
#   s3_delete KEY           delete the object (S3 reports success for a key that does not exist)
# They run in subshells: they change nothing in the caller's shell, and they work inside `if` and `||`.

# The SHA-256 of no bytes: the payload hash of a request without a body.
S3_EMPTY_SHA256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

s3_put() (
  set +x -euo pipefail
  _s3_prepare "put" "${2:-}" || return 1
  local file
  file=$(_s3_local_path "${1:-}")
  { [ -f "$file" ] && [ -r "$file" ]; } || { _s3_fail "put" "$S3__LABEL" "the local file '${1:-}' is not a readable regular file"; return 1; }
  local size sha
  size=$(stat -c %s -- "$file") || { _s3_fail "put" "$S3__LABEL" "cannot stat '$file'"; return 1; }
  sha=$(_s3_sha256 "$file") || { _s3_fail "put" "$S3__LABEL" "cannot read '$file'"; return 1; }
  if [ "$size" -gt "$S3__MULTIPART_BYTES" ]; then
    _s3_put_multipart "$file" "$size" "$sha"
    return
  fi
  _s3_request "put" PUT "$S3__KEY" "" "$sha" "$S3__BODY" -H "x-amz-meta-content-sha256: $sha" --upload-file "$file" || return
)

s3_get() (
  set +x -euo pipefail
  _s3_prepare "get" "${1:-}" || return 1
  local target
  target=$(_s3_local_path "${2:-}")
  { [ -n "${2:-}" ] && [ ! -d "$target" ]; } || { _s3_fail "get" "$S3__LABEL" "the local file '${2:-}' is not a file path"; return 1; }
  local part
  part=$(mktemp -- "$target.s3-get.XXXXXX") || { _s3_fail "get" "$S3__LABEL" "cannot create a file next to '$target'"; return 1; }
  S3__CLEANUP+=("$part")
  _s3_request "get" GET "$S3__KEY" "" "$S3_EMPTY_SHA256" "$part" || return
  local expected actual
  expected=$(_s3_header "$S3__HEADERS" x-amz-meta-content-sha256)
  if [ -n "$expected" ] && [ "${S3_CHECK_DOWNLOAD:-true}" != false ]; then
    actual=$(_s3_sha256 "$part") || { _s3_fail "get" "$S3__LABEL" "cannot read the downloaded '$part'"; return 1; }
    [ "$actual" = "$expected" ] || { _s3_fail "get" "$S3__LABEL" "the downloaded bytes have SHA-256 $actual, the object was uploaded with $expected"; return 1; }
  fi
  mv -f -- "$part" "$target" || { _s3_fail "get" "$S3__LABEL" "cannot move the download into '$target'"; return 1; }
)

s3_stream() (
  set +x -euo pipefail
  _s3_prepare "get" "${1:-}" || return 1
  local -a range=()
  if [ -n "${2:-}" ]; then
    { [[ $2 =~ ^[0-9]+$ && ${3:-} =~ ^[0-9]+$ ]] && [ "$3" -ge "$2" ]; } || { _s3_fail "get" "$S3__LABEL" "the byte range '$2-${3:-}' is not FIRST LAST"; return 1; }
    range=(-H "Range: bytes=$2-$3")
  fi
  # fd 5 is this function's standard output: _s3_request's own stdout is captured for the HTTP status.
  exec 5>&1
  S3_RETRIES=0 _s3_request "get" GET "$S3__KEY" "" "$S3_EMPTY_SHA256" /dev/fd/5 "${range[@]}"
)

s3_head() (
  set +x -euo pipefail
  _s3_prepare "head" "${1:-}" || return 1
  _s3_request "head" HEAD "$S3__KEY" "" "$S3_EMPTY_SHA256" "$S3__BODY" || return
  local size
  size=$(_s3_header "$S3__HEADERS" content-length)
  [[ $size =~ ^[0-9]+$ ]] || { _s3_fail "head" "$S3__LABEL" "the response has no Content-Length"; return 1; }
  printf '%s\n' "$size"
)

s3_delete() (
  set +x -euo pipefail
  _s3_prepare "delete" "${1:-}" || return 1
  _s3_request "delete" DELETE "$S3__KEY" "" "$S3_EMPTY_SHA256" "$S3__BODY" || return
)

s3_list() (
  set +x -euo pipefail
  local wanted=${1:-}
  _s3_prepare "list" "" || return 1
  local full_prefix=$wanted strip=""
  if [ -n "$S3__PREFIX" ]; then
    full_prefix="$S3__PREFIX/$wanted"
    strip="$S3__PREFIX/"
  fi
  S3__LABEL="s3://$S3_BUCKET/$full_prefix*"
  local keys="$S3__TMP/keys" token="" previous query page truncated rc
  : >"$keys"
  while :; do
    query=""
    [ -z "$token" ] || query="continuation-token=$(_s3_uri_encode "$token" false)&"
    # Written in canonical order (sorted by name, values encoded): it is signed as it is sent.
    query+="list-type=2&max-keys=$S3__LIST_PAGE_KEYS&prefix=$(_s3_uri_encode "$full_prefix" false)"
    _s3_request "list" GET "" "$query" "$S3_EMPTY_SHA256" "$S3__BODY" || return
    rc=0
    page=$(LC_ALL=C awk -v keys_out="$keys" -v strip="$strip" "$S3__XML_AWK"'
      /^Key>/ {
        k = unescape(substr($0, 5))
        if (index(k, "\n")) exit 2
        if (strip != "" && index(k, strip) == 1) k = substr(k, length(strip) + 1)
        print k >> keys_out
      }
      /^IsTruncated>/ { print "T" substr($0, 13) }
      /^NextContinuationToken>/ { print "N" unescape(substr($0, 23)) }
    ' "$S3__BODY") || rc=$?
    [ "$rc" -ne 2 ] || { _s3_fail "list" "$S3__LABEL" "a key holds a line break, which a one-per-line listing cannot show"; return 1; }
    [ "$rc" -eq 0 ] || { _s3_fail "list" "$S3__LABEL" "cannot read the listing"; return 1; }
    truncated=$(printf '%s\n' "$page" | sed -n 's/^T//p')
    [ "$truncated" = true ] || break
    previous=$token
    token=$(printf '%s\n' "$page" | sed -n 's/^N//p')
    { [ -n "$token" ] && [ "$token" != "$previous" ]; } || { _s3_fail "list" "$S3__LABEL" "the server says the listing goes on but gives no new continuation token"; return 1; }
  done
  cat -- "$keys"
)

# --- internals ----------------------------------------------------------------------------------------

# Check the settings and the key, read the credentials, and set what every request uses (S3__* variables,
# in the function's subshell only).
_s3_prepare() {
  local op=$1 key=$2
  umask 077
  S3__PREFIX=${S3_PREFIX:-}
  S3__PREFIX=${S3__PREFIX#/}
  S3__PREFIX=${S3__PREFIX%/}
  S3__KEY=$key
  [ -z "$S3__PREFIX" ] || [ -z "$key" ] || S3__KEY="$S3__PREFIX/$key"
  S3__LABEL="s3://${S3_BUCKET:-?}/$S3__KEY"
  if [ "$op" != "list" ]; then
    [ -n "$key" ] || { _s3_fail "$op" "$S3__LABEL" "no KEY given"; return 1; }
    [[ $key != *$'\n'* ]] || { _s3_fail "$op" "$S3__LABEL" "the key holds a line break"; return 1; }
  fi
  local problem
  problem=$(_s3_settings_problem) || { _s3_fail "$op" "$S3__LABEL" "$problem"; return 1; }
  _s3_read_credentials || { _s3_fail "$op" "$S3__LABEL" "S3_CREDENTIALS_FILE '$S3_CREDENTIALS_FILE' has no line 'user = \"<access key id>:<secret access key>\"'"; return 1; }
  S3__ENDPOINT=${S3_ENDPOINT:-https://s3.$S3_REGION.amazonaws.com}
  S3__ENDPOINT=${S3__ENDPOINT%/}
  S3__PATH_STYLE=${S3_PATH_STYLE:-}
  if [ -z "$S3__PATH_STYLE" ]; then
    if [ -n "${S3_ENDPOINT:-}" ]; then S3__PATH_STYLE=true; else S3__PATH_STYLE=false; fi
  fi
  S3__MULTIPART_BYTES=${S3_MULTIPART_BYTES:-268435456}
  S3__PART_BYTES=${S3_PART_BYTES:-67108864}
  S3__LIST_PAGE_KEYS=${S3_LIST_PAGE_KEYS:-1000}
  S3__SIGNING_DATE=""
  S3__TMP=$(mktemp -d "${S3_TMPDIR:-${TMPDIR:-/tmp}}/s3.XXXXXX") || { _s3_fail "$op" "$S3__LABEL" "cannot create a temporary directory in ${S3_TMPDIR:-${TMPDIR:-/tmp}}"; return 1; }
  S3__BODY="$S3__TMP/body"
  S3__HEADERS="$S3__TMP/headers"
  S3__UPLOAD_ID=""
  S3__CLEANUP=("$S3__TMP")
  # The subshell's own traps: a signal ends it through EXIT (status 128+N), which cleans up.
  trap '_s3_cleanup' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# EXIT trap of every operation: abort a multipart upload that did not complete (its parts would stay, and
# be billed), remove the temporary files.
_s3_cleanup() {
  if [ -n "${S3__UPLOAD_ID:-}" ]; then
    local id=$S3__UPLOAD_ID
    S3__UPLOAD_ID=""
    S3_RETRIES=1 S3_MAX_TIME=60 _s3_request "put (multipart: abort)" DELETE "$S3__KEY" "uploadId=$(_s3_uri_encode "$id" false)" \
      "$S3_EMPTY_SHA256" "$S3__BODY" ||
      _s3_fail "put (multipart: abort)" "$S3__LABEL" "upload $id could not be aborted: its parts stay until a lifecycle rule (AbortIncompleteMultipartUpload) removes them"
  fi
  rm -rf -- "${S3__CLEANUP[@]}"
}

# A local path curl and dd take as a file: "-" would be stdin/stdout to curl, so relative paths get "./".
_s3_local_path() {
  case $1 in "" | /*) printf '%s' "$1" ;; *) printf './%s' "$1" ;; esac
}

# What is wrong with the settings (printed, status 1), or nothing.
_s3_settings_problem() {
  local v
  [ -n "${S3_REGION:-}" ] || { echo "S3_REGION is not set"; return 1; }
  [[ $S3_REGION =~ ^[a-z0-9-]+$ ]] || { echo "S3_REGION '$S3_REGION' is not a region name (e.g. us-east-1)"; return 1; }
  [ -n "${S3_BUCKET:-}" ] || { echo "S3_BUCKET is not set"; return 1; }
  [[ $S3_BUCKET =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || { echo "S3_BUCKET '$S3_BUCKET' is not a bucket name"; return 1; }
  if [ -n "${S3_ENDPOINT:-}" ]; then
    [[ $S3_ENDPOINT =~ ^https://[^/?#@[:space:]\"\\]+/?$ ]] || { echo "S3_ENDPOINT '$S3_ENDPOINT' is not https://host[:port]"; return 1; }
  fi
  case ${S3_PATH_STYLE:-} in "" | true | false) ;; *) echo "S3_PATH_STYLE is '$S3_PATH_STYLE', not true or false"; return 1 ;; esac
  if [ "${S3_PATH_STYLE:-}" = false ] && [ -n "${S3_ENDPOINT:-}" ] && [[ $S3_ENDPOINT =~ ^https://([0-9.]+|\[.*\])(:|/|$) ]]; then
    echo "S3_PATH_STYLE=false needs a DNS name in S3_ENDPOINT (the bucket becomes part of the host name), not an IP address"
    return 1
  fi
  if [ -n "${S3_CA_FILE:-}" ] && [ ! -r "$S3_CA_FILE" ]; then echo "S3_CA_FILE '$S3_CA_FILE' is not readable"; return 1; fi
  for v in S3_CONNECT_TIMEOUT S3_MAX_TIME S3_STALL_SECONDS S3_RETRIES S3_MULTIPART_BYTES S3_PART_BYTES S3_LIST_PAGE_KEYS; do
    [ -z "${!v:-}" ] || [[ ${!v} =~ ^[0-9]+$ ]] || { echo "$v is '${!v}', not a whole number"; return 1; }
  done
  [ "${S3_PART_BYTES:-67108864}" -ge 5242880 ] || { echo "S3_PART_BYTES is ${S3_PART_BYTES}, below S3's minimum part size of 5242880 (5 MiB)"; return 1; }
  [ "${S3_MULTIPART_BYTES:-268435456}" -le 5368709120 ] || { echo "S3_MULTIPART_BYTES is ${S3_MULTIPART_BYTES}, above 5368709120 (5 GiB), the largest single upload S3 takes"; return 1; }
  { [ "${S3_LIST_PAGE_KEYS:-1000}" -ge 1 ] && [ "${S3_LIST_PAGE_KEYS:-1000}" -le 1000 ]; } || { echo "S3_LIST_PAGE_KEYS must be 1..1000"; return 1; }
  _s3_credentials_file_problem || return 1
  _s3_curl_problem || return 1
}

_s3_credentials_file_problem() {
  local f=${S3_CREDENTIALS_FILE:-} mode owner
  [ -n "$f" ] || { echo "S3_CREDENTIALS_FILE is not set"; return 1; }
  { [ -f "$f" ] && [ -r "$f" ]; } || { echo "S3_CREDENTIALS_FILE '$f' is not a readable file"; return 1; }
  mode=$(stat -c %a -- "$f") || { echo "cannot stat S3_CREDENTIALS_FILE '$f'"; return 1; }
  owner=$(stat -c %u -- "$f") || { echo "cannot stat S3_CREDENTIALS_FILE '$f'"; return 1; }
  [ "$owner" = "$(id -u)" ] || { echo "S3_CREDENTIALS_FILE '$f' belongs to uid $owner, not to the user running this (uid $(id -u))"; return 1; }
  case $mode in 600 | 400) ;; *) echo "S3_CREDENTIALS_FILE '$f' has mode $mode: it holds a secret and must be readable by its owner only (chmod 600)"; return 1 ;; esac
}

# S3__ACCESS_KEY and S3__SECRET from the credentials file's user line (curl config quoting undone), with
# builtins only: the secret reaches no other process.
_s3_read_credentials() {
  local line quoted value="" i c
  while IFS= read -r line || [ -n "$line" ]; do
    [[ $line =~ ^[[:space:]]*user[[:space:]]*=[[:space:]]*\"(.*)\"[[:space:]]*$ ]] || continue
    quoted=${BASH_REMATCH[1]}
    for ((i = 0; i < ${#quoted}; i++)); do
      c=${quoted:i:1}
      if [ "$c" = "\\" ]; then
        i=$((i + 1))
        c=${quoted:i:1}
      fi
      value+=$c
    done
    break
  done <"$S3_CREDENTIALS_FILE"
  S3__ACCESS_KEY=${value%%:*}
  S3__SECRET=${value#*:}
  [ -n "$S3__ACCESS_KEY" ] && [ "$S3__ACCESS_KEY" != "$value" ] && [ -n "$S3__SECRET" ]
}

# curl must keep the error body of a failed request (--fail-with-body, 7.76).
_s3_curl_problem() {
  local version major minor
  command -v curl >/dev/null 2>&1 || { echo "curl is not installed"; return 1; }
  version=$(curl --version 2>/dev/null | awk 'NR == 1 { print $2 }')
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || { echo "cannot tell the version of curl ('$version')"; return 1; }
  [ "$major" -gt 7 ] || { [ "$major" -eq 7 ] && [ "$minor" -ge 76 ]; } || { echo "curl $version is too old: 7.76 or newer keeps the errors of failed requests (--fail-with-body)"; return 1; }
}

# One signed request. Args: OPERATION METHOD KEY QUERY PAYLOAD_SHA256 BODY_FILE, then "-H 'Name: value'"
# pairs (signed and sent) and other curl arguments. KEY empty: the bucket; QUERY: canonical (sorted,
# encoded). The response body goes to BODY_FILE, its headers to $S3__HEADERS. On failure, prints the
# reason and returns 1 (3: no such object).
_s3_request() {
  local op=$1 method=$2 key=$3 query=$4 payload_sha=$5 body=$6
  shift 6
  local -a headers=() extra=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -H ]; then
      headers+=("$2")
      shift 2
    else
      extra+=("$1")
      shift
    fi
  done
  _s3_target "$key"
  local url="https://$S3__HOST$S3__URI${query:+?$query}"
  local status rc=0 errors="$S3__TMP/curl-errors" request="$S3__TMP/request"
  _s3_write_request "$request" "$method" "$query" "$payload_sha" "${headers[@]}" || { _s3_fail "$op" "$S3__LABEL" "cannot sign the request"; return 1; }
  local -a args=(
    -q --silent --show-error --fail-with-body --path-as-is --proto "=https" --http1.1
    --config "$request"
    --connect-timeout "${S3_CONNECT_TIMEOUT:-10}" --max-time "${S3_MAX_TIME:-900}"
    --speed-limit 1 --speed-time "${S3_STALL_SECONDS:-60}"
    --retry "${S3_RETRIES:-3}" --retry-connrefused
    --dump-header "$S3__HEADERS" --write-out '%{http_code}'
  )
  [ -z "${S3_CA_FILE:-}" ] || args+=(--cacert "$S3_CA_FILE")
  local -a verb=()
  case $method in
    GET) ;;
    HEAD) verb=(--head) ;;
    *) verb=(--request "$method") ;;
  esac
  : >"$S3__HEADERS"
  status=$(curl "${args[@]}" "${verb[@]}" --output "$body" "${extra[@]}" -- "$url" 2>"$errors") || rc=$?
  [ "$rc" -ne 0 ] || return 0
  local curl_error
  curl_error=$(grep -E '^curl: \([0-9]+\)' "$errors" | tail -n 1)
  [ -n "$curl_error" ] || curl_error=$(tail -n 1 "$errors")
  if [ "$rc" -eq 22 ] && [[ $status =~ ^[0-9]+$ ]] && [ "$status" -ge 400 ]; then
    local code message hint=""
    if [ "$method" = HEAD ] && [ "$status" = 404 ]; then
      # A HEAD answer has no body, so a 404 may be no such key, no such bucket or (versitygw) an unknown
      # access key: the same request as a GET of one byte brings S3's error code.
      body="$S3__TMP/probe"
      if _s3_write_request "$request" GET "$query" "$payload_sha" "${headers[@]}" "Range: bytes=0-0"; then
        curl "${args[@]}" --output "$body" -- "$url" >/dev/null 2>&1 || true
      fi
    fi
    # A stream's error body went to its reader: the status alone names the cause then.
    case $body in
      /dev/fd/*) code="" message="" ;;
      *)
        code=$(_s3_xml_text "$body" Code)
        message=$(_s3_xml_text "$body" Message)
        ;;
    esac
    if [ -z "$code" ]; then
      case $status in
        404) code="NotFound" message="no such object" ;;
        403) code="Forbidden" message="access denied" ;;
        *) code="HTTP$status" message="the answer carries no S3 error" ;;
      esac
    fi
    case $code in
      SignatureDoesNotMatch) hint="; check the secret access key in S3_CREDENTIALS_FILE and S3_REGION" ;;
      # XAdminUserNotFound: versitygw's answer (HTTP 404) to an access key it does not know.
      InvalidAccessKeyId | XAdminUserNotFound) hint="; check the access key id in S3_CREDENTIALS_FILE" ;;
      PermanentRedirect | AuthorizationHeaderMalformed) hint="; check S3_REGION, S3_ENDPOINT and S3_PATH_STYLE" ;;
      NoSuchBucket) hint="; check S3_BUCKET (and S3_PATH_STYLE for this endpoint)" ;;
      RequestTimeTooSkewed) hint="; check this host's clock" ;;
    esac
    _s3_fail "$op" "$S3__LABEL" "$code: ${message:-no message} (HTTP $status from $S3__ENDPOINT$hint)"
    case $code in NoSuchKey | NotFound) return 3 ;; esac
    return 1
  fi
  case $rc in
    35 | 51 | 53 | 54 | 58 | 59 | 60 | 64 | 66 | 77 | 80 | 83 | 90 | 91)
      _s3_fail "$op" "$S3__LABEL" "TLS with $S3__ENDPOINT failed: $curl_error${S3_CA_FILE:+ (server verified with S3_CA_FILE $S3_CA_FILE)}" ;;
    5 | 6 | 7 | 28 | 52 | 55 | 56)
      _s3_fail "$op" "$S3__LABEL" "$S3__ENDPOINT did not answer: $curl_error (connect timeout ${S3_CONNECT_TIMEOUT:-10} s, $((${S3_RETRIES:-3} + 1)) attempts)" ;;
    *)
      _s3_fail "$op" "$S3__LABEL" "request to $S3__ENDPOINT failed: ${curl_error:-curl exit $rc}" ;;
  esac
  return 1
}

# S3__HOST and S3__URI of an object (KEY empty: the bucket): path-style or virtual-hosted.
_s3_target() {
  local key_path
  key_path=$(_s3_uri_encode "$1" true)
  if [ "$S3__PATH_STYLE" = true ]; then
    S3__HOST=${S3__ENDPOINT#https://}
    S3__URI="/$S3_BUCKET${key_path:+/$key_path}"
  else
    S3__HOST="$S3_BUCKET.${S3__ENDPOINT#https://}"
    S3__URI="/$key_path"
  fi
  # The Host header carries no port 443, and it is what is signed.
  S3__HOST=${S3__HOST%:443}
}

# Write curl's config for one request (file mode 0600): the Host, x-amz-date, x-amz-content-sha256 and
# Authorization headers and the extra ones, all signed. Args: FILE METHOD QUERY PAYLOAD_SHA256 "Name: value"...
_s3_write_request() {
  local file=$1 method=$2 query=$3 payload_sha=$4
  shift 4
  local amz_date
  amz_date=$(date -u +%Y%m%dT%H%M%SZ) || return 1
  local -a all=("host: $S3__HOST" "x-amz-content-sha256: $payload_sha" "x-amz-date: $amz_date")
  local h
  for h in "$@"; do all+=("$(_s3_lower "${h%%:*}"): $(_s3_trim "${h#*:}")"); done
  local canonical_headers signed_headers
  canonical_headers=$(printf '%s\n' "${all[@]}" | sed 's/: /:/' | LC_ALL=C sort -t: -k1,1) || return 1
  signed_headers=$(printf '%s\n' "$canonical_headers" | cut -d: -f1 | paste -sd';') || return 1
  local signature
  signature=$(_s3_signature "$method" "$S3__URI" "$query" "$canonical_headers" "$signed_headers" "$payload_sha" "$amz_date") || return 1
  {
    for h in "Host: $S3__HOST" "x-amz-date: $amz_date" "x-amz-content-sha256: $payload_sha" "$@" \
      "Authorization: AWS4-HMAC-SHA256 Credential=$S3__ACCESS_KEY/${amz_date:0:8}/$S3_REGION/s3/aws4_request, SignedHeaders=$signed_headers, Signature=$signature"; do
      h=${h//\\/\\\\}
      printf 'header = "%s"\n' "${h//\"/\\\"}"
    done
  } >"$file"
}

# The SigV4 signature (hex) of a request. Args: METHOD URI QUERY CANONICAL_HEADERS SIGNED_HEADERS
# PAYLOAD_SHA256 AMZ_DATE, with CANONICAL_HEADERS "name:value" lines, sorted.
_s3_signature() {
  local method=$1 uri=$2 query=$3 canonical_headers=$4 signed_headers=$5 payload_sha=$6 amz_date=$7
  local date=${amz_date:0:8} scope request_hash
  scope="$date/$S3_REGION/s3/aws4_request"
  request_hash=$(printf '%s\n%s\n%s\n%s\n\n%s\n%s' "$method" "$uri" "$query" "$canonical_headers" "$signed_headers" "$payload_sha" | sha256sum) || return 1
  # The signing key depends on the date only: derived once per day in this subshell.
  if [ "$S3__SIGNING_DATE" != "$date" ]; then
    local key
    key=$(_s3_hmac "$(_s3_text_hex "AWS4$S3__SECRET")" "$date") &&
      key=$(_s3_hmac "$key" "$S3_REGION") &&
      key=$(_s3_hmac "$key" "s3") &&
      key=$(_s3_hmac "$key" "aws4_request") || return 1
    S3__SIGNING_KEY=$key
    S3__SIGNING_DATE=$date
  fi
  _s3_hmac "$S3__SIGNING_KEY" "$(printf 'AWS4-HMAC-SHA256\n%s\n%s\n%s' "$amz_date" "$scope" "${request_hash%% *}")"
}

# HMAC-SHA256 (RFC 2104) of MESSAGE with the key given in hex; prints it in hex. The key's bytes exist only
# as printf escapes inside this shell and its pipe to sha256sum: never an argument of another program.
_s3_hmac() {
  local key=$1 message=$2 inner_pad="" outer_pad="" inner i byte
  if [ ${#key} -gt 128 ]; then
    key=$(_s3_hex_escapes "$key") && key=$(printf '%b' "$key" | sha256sum) || return 1
    key=${key%% *}
  fi
  while [ ${#key} -lt 128 ]; do key+="00"; done
  for ((i = 0; i < 128; i += 2)); do
    byte=$((16#${key:i:2}))
    printf -v inner_pad '%s\\x%02x' "$inner_pad" $((byte ^ 0x36))
    printf -v outer_pad '%s\\x%02x' "$outer_pad" $((byte ^ 0x5c))
  done
  inner=$({ printf '%b' "$inner_pad"; printf '%s' "$message"; } | sha256sum) || return 1
  inner=$(_s3_hex_escapes "${inner%% *}")
  inner=$({ printf '%b' "$outer_pad"; printf '%b' "$inner"; } | sha256sum) || return 1
  printf '%s' "${inner%% *}"
}

# "\xHH" escapes (for printf %b) of a hex string.
_s3_hex_escapes() {
  local hex=$1 out="" i
  for ((i = 0; i < ${#hex}; i += 2)); do out+="\\x${hex:i:2}"; done
  printf '%s' "$out"
}

# The bytes of a text, in hex.
_s3_text_hex() {
  local LC_ALL=C
  local s=$1 out="" i
  for ((i = 0; i < ${#s}; i++)); do printf -v out '%s%02x' "$out" "'${s:i:1}"; done
  printf '%s' "$out"
}

_s3_lower() {
  local LC_ALL=C
  printf '%s' "${1,,}"
}

_s3_trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

# The upload of a file larger than S3_MULTIPART_BYTES: create, one part at a time (each cut from the file with
# dd and sent with its own SHA-256), complete; any failure or signal aborts the upload, so no part is left.
_s3_put_multipart() {
  local file=$1 size=$2 sha=$3
  local part_bytes=$S3__PART_BYTES parts upload_id
  # S3 takes at most 10000 parts: grow them (in whole MiB) for a file that would need more.
  if [ $(((size + part_bytes - 1) / part_bytes)) -gt 10000 ]; then
    local mebibytes=$(((size + 10000 * 1048576 - 1) / (10000 * 1048576)))
    part_bytes=$((mebibytes * 1048576))
  fi
  parts=$(((size + part_bytes - 1) / part_bytes))
  _s3_request "put (multipart: create)" POST "$S3__KEY" "uploads=" "$S3_EMPTY_SHA256" "$S3__BODY" \
    -H "x-amz-meta-content-sha256: $sha" || return
  upload_id=$(_s3_xml_text "$S3__BODY" UploadId)
  [ -n "$upload_id" ] || { _s3_fail "put (multipart: create)" "$S3__LABEL" "the answer has no UploadId"; return 1; }
  S3__UPLOAD_ID=$upload_id
  local n offset length part="$S3__TMP/part" part_sha etag complete="$S3__TMP/complete.xml" id_query complete_sha
  id_query="uploadId=$(_s3_uri_encode "$upload_id" false)"
  printf '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' >"$complete"
  for ((n = 1; n <= parts; n++)); do
    offset=$(((n - 1) * part_bytes))
    length=$((size - offset < part_bytes ? size - offset : part_bytes))
    dd if="$file" of="$part" bs=1M iflag=skip_bytes,count_bytes skip="$offset" count="$length" status=none ||
      { _s3_fail "put (multipart: part $n of $parts)" "$S3__LABEL" "cannot cut bytes $offset..$((offset + length)) of '$file' into $S3__TMP"; return 1; }
    [ "$(stat -c %s -- "$part")" -eq "$length" ] ||
      { _s3_fail "put (multipart: part $n of $parts)" "$S3__LABEL" "'$file' changed while it was uploaded"; return 1; }
    part_sha=$(_s3_sha256 "$part") || { _s3_fail "put (multipart: part $n of $parts)" "$S3__LABEL" "cannot read the part"; return 1; }
    # Query in canonical order: partNumber before uploadId.
    _s3_request "put (multipart: part $n of $parts)" PUT "$S3__KEY" "partNumber=$n&$id_query" "$part_sha" "$S3__BODY" \
      --upload-file "$part" || return
    etag=$(_s3_header "$S3__HEADERS" etag)
    [ -n "$etag" ] || { _s3_fail "put (multipart: part $n of $parts)" "$S3__LABEL" "the answer has no ETag"; return 1; }
    printf '<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>' "$n" "$(_s3_xml_escape "$etag")" >>"$complete"
  done
  rm -f -- "$part"
  printf '</CompleteMultipartUpload>' >>"$complete"
  complete_sha=$(_s3_sha256 "$complete") || { _s3_fail "put (multipart: complete)" "$S3__LABEL" "cannot read $complete"; return 1; }
  _s3_request "put (multipart: complete)" POST "$S3__KEY" "$id_query" "$complete_sha" "$S3__BODY" \
    -H "Content-Type: application/xml" --data-binary "@$complete" || return
  # S3 can answer 200 and still fail the completion, with an <Error> in the body.
  if grep -q '<Error>' -- "$S3__BODY"; then
    _s3_fail "put (multipart: complete)" "$S3__LABEL" "$(_s3_xml_text "$S3__BODY" Code): $(_s3_xml_text "$S3__BODY" Message) (HTTP 200 from $S3__ENDPOINT)"
    return 1
  fi
  S3__UPLOAD_ID=""
  local stored
  _s3_request "put (multipart: check)" HEAD "$S3__KEY" "" "$S3_EMPTY_SHA256" "$S3__BODY" || return
  stored=$(_s3_header "$S3__HEADERS" content-length)
  [ "$stored" = "$size" ] || { _s3_fail "put (multipart: check)" "$S3__LABEL" "the stored object has $stored bytes, the file $size"; return 1; }
}

# RFC 3986 percent-encoding of every byte but A-Z a-z 0-9 - . _ ~ (and "/" when the 2nd arg is true), as
# SigV4 wants it: paths and queries are sent exactly as they are signed.
_s3_uri_encode() {
  local LC_ALL=C
  local s=$1 keep_slash=$2 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      /) if [ "$keep_slash" = true ]; then out+=/; else out+=%2F; fi ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

_s3_sha256() {
  local sum
  # openssl's SHA-256 is about five times faster than sha256sum on a large file; sha256sum where there is no openssl.
  if command -v openssl >/dev/null 2>&1; then sum=$(openssl dgst -sha256 -r <"$1") || return 1; else sum=$(sha256sum <"$1") || return 1; fi
  printf '%s' "${sum%% *}"
}

# The value of a response header (the last response's, case-insensitive name), without the line end.
_s3_header() {
  LC_ALL=C awk -v name="$2" '
    /^HTTP\// { value = "" }
    { line = $0; sub(/\r$/, "", line); i = index(line, ":") }
    i > 0 && tolower(substr(line, 1, i - 1)) == name { value = substr(line, i + 1); sub(/^[ \t]+/, "", value); sub(/[ \t]+$/, "", value) }
    END { printf "%s", value }
  ' "$1"
}

# The unescaped text of the first <NAME> element of an XML file (empty when there is none).
_s3_xml_text() {
  [ -s "$1" ] || return 0
  LC_ALL=C awk -v name="$2" "$S3__XML_AWK"'
    index($0, name ">") == 1 { printf "%s", unescape(substr($0, length(name) + 2)); exit }
  ' "$1"
}

_s3_xml_escape() {
  local s=$1
  s=${s//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  printf '%s' "$s"
}

# awk, run with LC_ALL=C (bytes): records split at "<", so each starts with a tag ("Key>text", "/Key>");
# unescape() decodes XML's five named entities and numeric ones (&#34; &#x9C;) into UTF-8 bytes.
S3__XML_AWK='
  BEGIN { RS = "<" }
  function utf8(cp) {
    if (cp < 128) return sprintf("%c", cp)
    if (cp < 2048) return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
    if (cp < 65536) return sprintf("%c%c%c", 224 + int(cp / 4096), 128 + int(cp / 64) % 64, 128 + cp % 64)
    return sprintf("%c%c%c%c", 240 + int(cp / 262144), 128 + int(cp / 4096) % 64, 128 + int(cp / 64) % 64, 128 + cp % 64)
  }
  function number(s, hex,   n, i, d) {
    n = 0
    for (i = 1; i <= length(s); i++) {
      d = index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
      if (d < 0 || (!hex && d > 9)) return -1
      n = n * (hex ? 16 : 10) + d
    }
    return n
  }
  function unescape(s,   out, amp, semi, ent, cp) {
    out = ""
    while ((amp = index(s, "&")) > 0) {
      out = out substr(s, 1, amp - 1)
      s = substr(s, amp)
      semi = index(s, ";")
      if (semi == 0) break
      ent = substr(s, 2, semi - 2)
      cp = -1
      if (ent == "lt") cp = 60
      else if (ent == "gt") cp = 62
      else if (ent == "amp") cp = 38
      else if (ent == "quot") cp = 34
      else if (ent == "apos") cp = 39
      else if (ent ~ /^#[xX][0-9a-fA-F]+$/) cp = number(substr(ent, 3), 1)
      else if (ent ~ /^#[0-9]+$/) cp = number(substr(ent, 2), 0)
      if (cp < 0) { out = out "&"; s = substr(s, 2); continue }
      out = out utf8(cp)
      s = substr(s, semi + 1)
    }
    return out s
  }
'

# One line on stderr: this host, the operation, the object, the cause.
_s3_fail() {
  printf 's3: %s: %s %s failed: %s\n' "$(uname -n)" "$1" "$2" "$3" >&2
}
