# shellcheck shell=bash disable=SC2034  # LAST_PASS, LOCK_RESUMED and LOCK_HOLDER are read by etcd-defrag
# Managed by etcd-pulumi (components/maintenance): the maintenance lock, held in etcd with neither a
# lease nor a clock. Sourced by etcd-defrag, which defines local_ectl and DEFRAG_MEMBER.
#
# Keys under $DEFRAG_KEY_PREFIX:
#   roster          the members that take part, space-separated
#   token/<member>  present while <member> does NOT hold the lock
# The lock is free when every roster member's token is present. A member takes it by deleting its own
# token in one transaction that requires the roster unchanged and every roster token present: of two
# members trying at once, exactly one succeeds, whatever their clocks say. Why not `etcdctl lock`: under
# a NOSPACE alarm etcd refuses puts and lease grants (so no lease-based lock can be taken), but still
# applies deletes, and that is when the recovery most needs one member at a time. Nothing expires
# under a holder that is slow: a pass that is interrupted finds the lock still its own on its host's
# next run (systemd runs one pass per host at a time), and a member that leaves the cluster is dropped
# from the roster by the others, lock and all.

lock_key() { printf '%s%s' "$DEFRAG_KEY_PREFIX" "$1"; }

# lock_read: ROSTER (names), ROSTER_MOD (0: no roster yet), TOKENS (" name name "), LAST_PASS (the
# last successful pass: "start=<epoch> member=<name> reason=<why>", or empty).
lock_read() {
  local out parsed kind a b
  out=$(local_ectl get --prefix "$DEFRAG_KEY_PREFIX" -w fields) || return 1
  parsed=$(printf '%s\n' "$out" | awk -F' : ' -v p="$DEFRAG_KEY_PREFIX" '
    $1 == "\"Key\"" { k = substr($2, 2, length($2) - 2) }
    $1 == "\"ModRevision\"" { mod = $2 }
    $1 == "\"Value\"" {
      v = substr($2, 2, length($2) - 2)
      if (k == p "roster") print "roster", mod, v
      else if (index(k, p "token/") == 1) print "token", substr(k, length(p "token/") + 1)
      else if (k == p "last-pass") print "last-pass", v
    }')
  ROSTER=""; ROSTER_MOD=0; TOKENS=" "; LAST_PASS=""
  while read -r kind a b; do
    case "$kind" in
      roster) ROSTER_MOD=$a; ROSTER=$b ;;
      token) TOKENS+="$a " ;;
      last-pass) LAST_PASS="$a $b" ;;
    esac
  done <<< "$parsed"
}

lock_in_roster() { case " $ROSTER " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# lock_holder: the roster member(s) whose token is missing (empty: the lock is free). Needs lock_read.
lock_holder() {
  local n held=""
  for n in $ROSTER; do case "$TOKENS" in *" $n "*) ;; *) held+="${held:+ }$n" ;; esac; done
  printf '%s' "$held"
}

# lock_txn COMPARE... -- OP...: one etcd transaction; true when its compares held.
lock_txn() {
  local cmps=() ops=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do cmps+=("$1"); shift; done
  shift
  ops=("$@")
  local out
  out=$(printf '%s\n' "${cmps[@]}" "" "${ops[@]}" "" "" | local_ectl txn 2>&1) || { LOCK_ERROR=$(printf '%s' "$out" | tail -n 1); return 2; }
  [ "$(printf '%s' "$out" | head -n 1)" = SUCCESS ]
}

# lock_roster_guard: the compare that the roster is still what lock_read saw.
lock_roster_guard() {
  if [ "$ROSTER_MOD" = 0 ]; then printf 'create("%s") = "0"' "$(lock_key roster)"; else printf 'mod("%s") = "%s"' "$(lock_key roster)" "$ROSTER_MOD"; fi
}

# lock_join: this member enters the roster with its token (needs writes: not under NOSPACE).
lock_join() {
  local me=$DEFRAG_MEMBER
  lock_txn "$(lock_roster_guard)" -- "put $(lock_key roster) \"${ROSTER:+$ROSTER }$me\"" "put $(lock_key "token/$me") free"
}

# lock_prune MEMBER...: roster entries that are no longer members leave it, with their tokens (so a
# member removed while it held the lock releases it). Needs writes; a failure is left for the next run.
lock_prune() {
  local n keep="" gone=()
  for n in $ROSTER; do
    if printf '%s\n' "$@" | grep -qxF "$n"; then keep+="${keep:+ }$n"; else gone+=("$n"); fi
  done
  [ "${#gone[@]}" -gt 0 ] || return 0
  local ops=("put $(lock_key roster) \"$keep\"")
  for n in "${gone[@]}"; do ops+=("del $(lock_key "token/$n")"); done
  lock_txn "$(lock_roster_guard)" -- "${ops[@]}" && echo "${gone[*]}"
}

# lock_take: 0 this member holds the lock (taken now, or still its own from an interrupted run:
# LOCK_RESUMED=1); 1 another member holds it (LOCK_HOLDER); 2 it cannot be had now (LOCK_ERROR).
lock_take() {
  local me=$DEFRAG_MEMBER rc n
  LOCK_RESUMED=0; LOCK_HOLDER=""; LOCK_ERROR=""
  for _ in 1 2 3 4 5; do
    lock_read || { LOCK_ERROR="cannot read the lock through the local etcd"; return 2; }
    if ! lock_in_roster "$me"; then
      rc=0; lock_join || rc=$?
      if [ "$rc" = 2 ]; then LOCK_ERROR="cannot join the maintenance roster: ${LOCK_ERROR}"; return 2; fi
      continue
    fi
    LOCK_HOLDER=$(lock_holder)
    if [ "$LOCK_HOLDER" = "$me" ]; then LOCK_RESUMED=1; return 0; fi
    if [ -n "$LOCK_HOLDER" ]; then return 1; fi
    local cmps=("$(lock_roster_guard)")
    for n in $ROSTER; do cmps+=("create(\"$(lock_key "token/$n")\") > \"0\""); done
    rc=0; lock_txn "${cmps[@]}" -- "del $(lock_key "token/$me")" || rc=$?
    [ "$rc" = 0 ] && return 0
    [ "$rc" = 2 ] && return 2
    # The roster or a token changed between the read and the transaction: look again.
  done
  LOCK_ERROR="the lock kept changing under 5 attempts"
  return 2
}

# lock_is_mine: this member still holds the lock (re-read from etcd).
lock_is_mine() {
  lock_read || return 1
  lock_in_roster "$DEFRAG_MEMBER" && [ "$(lock_holder)" = "$DEFRAG_MEMBER" ]
}

# lock_release: put this member's token back (needs writes: under NOSPACE the lock stays held, and the
# next run on this host finds it its own).
lock_release() {
  local_ectl put "$(lock_key "token/$DEFRAG_MEMBER")" free >/dev/null
}
