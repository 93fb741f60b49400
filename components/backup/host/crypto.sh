# shellcheck shell=bash
# The authenticated encryption of backup objects (etcd-pulumi), sourced by etcd-backup. Needs bash,
# coreutils, gzip and openssl (>= 1.1.1, for -pbkdf2).
#
# An object is gzip, then AES-256-CTR (`openssl enc`, key and IV from PBKDF2-SHA256 of enc.pass with a
# random 8-byte salt per object, 10000 iterations), then a 32-byte HMAC-SHA256 tag over the line
# "etcd-pulumi-backup-v1", the object's name and the ciphertext (encrypt-then-MAC). The HMAC is
# computed from its pads (mac.pads: the key XOR 0x36, then XOR 0x5c, RFC 2104, one hex line each) with a
# plain SHA-256 of a stream (sha256_hex), so no key is ever a command-line argument.
#
# Settings: BACKUP_KEY_DIR (enc.pass, mac.pads). The caller defines fail MESSAGE (prints, exits non-zero).

BACKUP_MAGIC="etcd-pulumi-backup-v1"

# Reads the HMAC pads; non-zero when the key files are missing.
backup_keys_load() {
  [ -r "$BACKUP_KEY_DIR/enc.pass" ] && [ -r "$BACKUP_KEY_DIR/mac.pads" ] || return 1
  { read -r MAC_IPAD; read -r MAC_OPAD; } < "$BACKUP_KEY_DIR/mac.pads"
  [ "${#MAC_IPAD}" = 128 ] && [ "${#MAC_OPAD}" = 128 ]
}

# SHA-256 of standard input, in hex. openssl's, not coreutils' sha256sum: about five times faster on a
# large object (SHA extensions), and this file needs openssl anyway.
sha256_hex() { local out; out=$(openssl dgst -sha256 -r) || return 1; printf '%s\n' "${out%% *}"; }
hex_to_bin() { printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

# mac_prefix NAME: what the HMAC's inner hash reads before an object's bytes (the inner pad, the magic line,
# the object's name).
mac_prefix() { hex_to_bin "$MAC_IPAD"; printf '%s\n%s\n' "$BACKUP_MAGIC" "$1"; }

# tag NAME FILE [BYTES]: the HMAC-SHA256 (hex) of the object NAME and the first BYTES of FILE (all of it
# by default).
tag() {
  local inner
  inner=$({ mac_prefix "$1"; if [ -n "${3:-}" ]; then head -c "$3" "$2"; else cat "$2"; fi; } | sha256_hex)
  { hex_to_bin "$MAC_OPAD"; hex_to_bin "$inner"; } | sha256_hex
}

# seal NAME IN OUT: encrypt IN into OUT (gzip first when NAME ends in .gz.enc), then append the tag.
seal() {
  local t
  if [[ "$1" == *.gz.enc ]]; then
    gzip -1 -c "$2" | openssl enc -aes-256-ctr -pbkdf2 -iter 10000 -md sha256 -salt -pass "file:$BACKUP_KEY_DIR/enc.pass" -out "$3" || fail "encrypting $1 failed"
  else
    openssl enc -aes-256-ctr -pbkdf2 -iter 10000 -md sha256 -salt -pass "file:$BACKUP_KEY_DIR/enc.pass" -in "$2" -out "$3" || fail "encrypting $1 failed"
  fi
  t=$(tag "$1" "$3")
  hex_to_bin "$t" >> "$3"
}

# unseal_verdict NAME EXPECTED_TAG INNER_HASH DECRYPT_STATUS OUT: keeps OUT only if the tag, finished from
# its inner hash, is the one the object carries and the decryption succeeded; otherwise removes it and fails.
unseal_verdict() {
  local actual
  actual=$({ hex_to_bin "$MAC_OPAD"; hex_to_bin "$3"; } | sha256_hex)
  if [ "$actual" != "$2" ]; then
    rm -f "$5"
    fail "$1 does not authenticate with this cluster's backup key: it was written with another key (set backup.encryptionKey to the key of the stack that wrote it) or it was changed in the store"
  fi
  if [ "$4" != 0 ]; then rm -f "$5"; fail "$1: decryption failed after its tag checked out"; fi
}

# unseal NAME IN OUT: decrypt IN into OUT (and gunzip, for .gz.enc), keeping OUT only when the tag is
# right. The tag is computed while the object is decrypted, each reading IN itself (two cores, no pipe
# copies between them).
unseal() {
  local size body expected inner rc=0
  size=$(stat -c %s "$2")
  [ "$size" -gt 48 ] || fail "$1: $size bytes is too short to be a backup object"
  body=$((size - 32))
  expected=$(tail -c 32 "$2" | od -An -v -tx1 | tr -d ' \n')
  rm -f "$3.inner"
  { mac_prefix "$1"; head -c "$body" "$2"; } | sha256_hex > "$3.inner" &
  local tagger=$!
  if [[ "$1" == *.gz.enc ]]; then
    head -c "$body" "$2" | openssl enc -d -aes-256-ctr -pbkdf2 -iter 10000 -md sha256 -pass "file:$BACKUP_KEY_DIR/enc.pass" | gunzip -c > "$3" || rc=$?
  else
    # CTR has no padding: the whole file decrypts (the tag into 32 bytes of noise, cut off after), so
    # openssl reads IN directly instead of through a pipe.
    openssl enc -d -aes-256-ctr -pbkdf2 -iter 10000 -md sha256 -pass "file:$BACKUP_KEY_DIR/enc.pass" -in "$2" -out "$3" || rc=$?
    if [ "$rc" = 0 ]; then truncate -s -32 "$3" || rc=$?; fi
  fi
  wait "$tagger" || true
  inner=$(cat "$3.inner" 2>/dev/null || true)
  rm -f "$3.inner"
  unseal_verdict "$1" "$expected" "$inner" "$rc" "$3"
}

# unseal_stream NAME TAG_FILE OUT FAILED_MARK: like unseal, for an object whose ciphertext (all but its
# 32-byte tag) arrives on standard input and whose tag is in TAG_FILE: a full base streams from the store
# into the decryption and is never written here encrypted. FAILED_MARK: a file that exists once the input
# has ended if the download behind it failed (its own message is printed; this one then only removes OUT).
unseal_stream() {
  local expected inner rc=0 fifo="$3.tag-fifo"
  [ "$(stat -c %s "$2")" = 32 ] || fail "$1: its tag was not downloaded whole"
  expected=$(od -An -v -tx1 < "$2" | tr -d ' \n')
  rm -f "$fifo" "$3.inner"
  mkfifo -m 0600 "$fifo"
  { mac_prefix "$1"; cat "$fifo"; } | sha256_hex > "$3.inner" &
  local tagger=$!
  tee "$fifo" | openssl enc -d -aes-256-ctr -pbkdf2 -iter 10000 -md sha256 -pass "file:$BACKUP_KEY_DIR/enc.pass" -out "$3" || rc=$?
  wait "$tagger" || true
  inner=$(cat "$3.inner" 2>/dev/null || true)
  rm -f "$fifo" "$3.inner"
  if [ -e "$4" ]; then rm -f "$3"; fail "downloading $1 failed"; fi
  unseal_verdict "$1" "$expected" "$inner" "$rc" "$3"
}
