#!/bin/bash
# etcd-auth (etcd-pulumi): brings etcd's users, roles and permissions to what the stack config declares,
# then turns authentication on or off. Run by the cluster's auth steps on one member, through every
# member's client URL, as the admin (CN etcd-admin, root role). Idempotent: a re-run after an
# interruption finishes the job; nothing is ever removed before what replaces it is in place.
#
#   etcd-auth ENV_FILE      ENV_FILE's directory also holds: desired (the users and roles to have),
#                           role-perms.awk, ca.crt, admin.crt, admin.key (private, removed by the caller)
#
# desired, one item a line (names never hold spaces; keys are base64, so they may hold anything):
#   user NAME ROLE...             the user and exactly the roles it holds
#   role ROLE                     a role etcd-pulumi manages (prefix AUTH_MANAGED_ROLE_PREFIX)
#   perm ROLE TYPE KEY END        a permission of that role: TYPE 0 read, 2 readwrite; END "-" for one key
#
# Users are etcd-pulumi's when they hold their own role AUTH_MANAGED_ROLE_PREFIX<name>: only those are
# ever deleted (when no longer declared). Other users and roles are left alone and listed.
# Authentication is turned off (auth: false) only when etcd-pulumi turned it on (role AUTH_MARKER_ROLE).
set -euo pipefail
umask 077

ENV_FILE=$1
DIR=$(dirname "$ENV_FILE")
# shellcheck source=/dev/null
source "$ENV_FILE"
: "${AUTH_HOST:?}" "${AUTH_STEP:?}" "${AUTH_ENABLED:?}" "${AUTH_ENDPOINTS:?}" "${AUTH_ETCDCTL:?}" "${AUTH_WAIT_SECONDS:?}"
: "${AUTH_MANAGED_ROLE_PREFIX:?}" "${AUTH_MARKER_ROLE:?}" "${AUTH_ADMIN_USER:?}" "${AUTH_SKIP_ON_NEW_HOST:?}"
DESIRED="$DIR/desired"

where="etcd-pulumi: [$AUTH_HOST] step $AUTH_STEP"
fail() { echo "$where: $*" >&2; exit 1; }
log() { echo "[$where] $*"; }

ctl() {
  "$AUTH_ETCDCTL" --endpoints="$AUTH_ENDPOINTS" --cacert="$DIR/ca.crt" --cert="$DIR/admin.crt" --key="$DIR/admin.key" \
    --dial-timeout=3s --command-timeout=10s "$@" </dev/null
}
# What etcdctl said, without its JSON log lines, on one line.
brief() { printf '%s\n' "$1" | { grep -v '^{"level"' || true; } | tail -n 2 | paste -sd' ' -; }
# run WHAT ARGS...: etcdctl ARGS, printing its output; on failure, fail naming WHAT and etcdctl's reason.
run() {
  local what=$1 out
  shift
  out=$(ctl "$@" 2>&1) || fail "$what failed: $(brief "$out")"
  printf '%s\n' "$out"
}
# in_list WORD LIST: WORD is one of LIST's lines. No pipe: with pipefail, `printf | grep -q` fails now and then
# (grep exits at the first match, printf gets SIGPIPE).
in_list() {
  case $'\n'"$2"$'\n' in *$'\n'"$1"$'\n'*) return 0 ;; esac
  return 1
}
decode() { printf '%s' "$1" | base64 -d; }
perm_name() {
  case $1 in
    0) echo read ;;
    1) echo write ;;
    2) echo readwrite ;;
    *) fail "unknown permission type $1" ;;
  esac
}
show_range() { if [ "$2" = - ]; then printf 'key %s' "$(decode "$1")"; else printf '[%s, %s)' "$(decode "$1")" "$(decode "$2")"; fi; }

if [ "$AUTH_SKIP_ON_NEW_HOST" = true ] && [ ! -s "${AUTH_INCARNATION_FILE:?}" ] && ! systemctl is-active --quiet etcd.service; then
  log "a new cluster: its users, roles and authentication are set up as soon as it has formed (step auth-after-bootstrap)"
  exit 0
fi

# --- Where the cluster stands: authentication on/off, and whether etcd-pulumi turned it on ---------------
deadline=$((SECONDS + AUTH_WAIT_SECONDS))
while true; do
  if out=$(ctl auth status 2>&1); then
    status=$(printf '%s\n' "$out" | sed -n 's/^Authentication Status: //p')
    [ "$status" = true ] || [ "$status" = false ] || fail "unexpected answer to etcdctl auth status: $(brief "$out")"
    break
  fi
  # Only an enabled authentication refuses the admin certificate.
  case "$out" in *"permission denied"* | *"user name not found"* | *"user name is empty"*) status=refused; break ;; esac
  ((SECONDS < deadline)) || fail "the cluster did not answer through $AUTH_ENDPOINTS within ${AUTH_WAIT_SECONDS}s: $(brief "$out")"
  sleep 1
done
if [ "$status" = refused ]; then
  [ "$AUTH_ENABLED" = true ] || {
    log "WARNING: authentication is on (turned on outside etcd-pulumi) and refuses the admin certificate; auth: false leaves it as it is, users and roles untouched"
    exit 0
  }
  fail "authentication is on, but etcd refuses the admin certificate (CN $AUTH_ADMIN_USER): that user is missing or lacks the root role (changed outside etcd-pulumi)." \
    "Fix: on a member, with the certificate of a root user (e.g. the member's own: sudo -i, then etcdctl), run etcdctl user add $AUTH_ADMIN_USER --no-password (if it is missing)" \
    "and etcdctl user grant-role $AUTH_ADMIN_USER root; then pulumi up again"
fi

existing_roles=$(run "listing roles" role list)
marker=no
if in_list "$AUTH_MARKER_ROLE" "$existing_roles"; then marker=yes; fi
if [ "$status" = true ] && [ "$marker" = no ] && [ "$AUTH_ENABLED" = false ]; then
  log "WARNING: authentication is on, turned on outside etcd-pulumi; auth: false leaves it as it is, users and roles untouched (set auth: true to let etcd-pulumi manage them)"
  exit 0
fi

# --- Roles, then their permissions: grants before revocations ---------------------------------------------
desired_roles=$(awk '$1 == "role" { print $2 }' "$DESIRED")
desired_users=$(awk '$1 == "user" { print $2 }' "$DESIRED")
changes=0
if ! in_list root "$existing_roles"; then
  run "adding role root" role add root >/dev/null
  log "role root added"
  changes=$((changes + 1))
fi
for role in $desired_roles; do
  if ! in_list "$role" "$existing_roles"; then
    run "adding role $role" role add "$role" >/dev/null
    log "role $role added"
    changes=$((changes + 1))
  fi
  want=$(awk -v r="$role" '$1 == "perm" && $2 == r { print $3, $4, $5 }' "$DESIRED" | sort)
  have=$(run "reading role $role" role get "$role" -w json | awk -f "$DIR/role-perms.awk" | sort)
  # A grant of a range the role has already replaces its access (widen or narrow in one step).
  while read -r type key end; do
    [ -n "$type" ] || continue
    in_list "$type $key $end" "$have" && continue
    access=$(perm_name "$type")
    if [ "$end" = - ]; then
      run "granting $access $(show_range "$key" "$end") to role $role" role grant-permission -- "$role" "$access" "$(decode "$key")" >/dev/null
    else
      run "granting $access $(show_range "$key" "$end") to role $role" role grant-permission -- "$role" "$access" "$(decode "$key")" "$(decode "$end")" >/dev/null
    fi
    log "role $role: $access $(show_range "$key" "$end") granted"
    changes=$((changes + 1))
  done <<<"$want"
  while read -r type key end; do
    [ -n "$type" ] || continue
    printf '%s\n' "$want" | awk -v k="$key" -v e="$end" '$2 == k && $3 == e { found = 1 } END { exit !found }' && continue
    what="revoking $(show_range "$key" "$end") from role $role"
    case "$end" in
      -) run "$what" role revoke-permission -- "$role" "$(decode "$key")" >/dev/null ;;
      AA==) run "$what" role revoke-permission --from-key -- "$role" "$(decode "$key")" >/dev/null ;;
      *) run "$what" role revoke-permission -- "$role" "$(decode "$key")" "$(decode "$end")" >/dev/null ;;
    esac
    log "role $role: $(show_range "$key" "$end") revoked"
    changes=$((changes + 1))
  done <<<"$have"
done

# --- Users (certificate only, no password) and exactly their roles ----------------------------------------
existing_users=$(run "listing users" user list)
user_roles() { run "reading user $1" user get "$1" | sed -n 's/^Roles://p' | tr ' ' '\n' | sed '/^$/d' | sort; }
for user in $desired_users; do
  want=$(awk -v u="$user" '$1 == "user" && $2 == u { for (i = 3; i <= NF; i++) print $i }' "$DESIRED" | sort)
  have=""
  if in_list "$user" "$existing_users"; then
    have=$(user_roles "$user")
  else
    run "adding user $user" user add "$user" --no-password >/dev/null
    log "user $user added (certificate only: no password)"
    changes=$((changes + 1))
  fi
  for role in $want; do
    in_list "$role" "$have" && continue
    run "granting role $role to user $user" user grant-role "$user" "$role" >/dev/null
    log "user $user: role $role granted"
    changes=$((changes + 1))
  done
  for role in $have; do
    in_list "$role" "$want" && continue
    run "revoking role $role from user $user" user revoke-role "$user" "$role" >/dev/null
    log "user $user: role $role revoked"
    changes=$((changes + 1))
  done
done

# --- What is no longer declared: etcd-pulumi's users, then its roles; others are left alone --------------
left_alone=""
while IFS= read -r user; do
  [ -n "$user" ] || continue
  in_list "$user" "$desired_users" && continue
  if in_list "$AUTH_MANAGED_ROLE_PREFIX$user" "$(user_roles "$user")"; then
    run "deleting user $user" user delete "$user" >/dev/null
    log "user $user deleted (no longer declared): its certificate is refused from now on"
    changes=$((changes + 1))
  else
    left_alone="$left_alone $user"
  fi
done <<<"$existing_users"
while IFS= read -r role; do
  case "$role" in "$AUTH_MANAGED_ROLE_PREFIX"*) ;; *) continue ;; esac
  in_list "$role" "$desired_roles" && continue
  run "deleting role $role" role delete "$role" >/dev/null
  log "role $role deleted (no longer declared)"
  changes=$((changes + 1))
done <<<"$existing_roles"
[ -z "$left_alone" ] || log "users not created by etcd-pulumi, left as they are:$left_alone"

# --- The switch --------------------------------------------------------------------------------------------
if [ "$AUTH_ENABLED" = true ]; then
  # The marker first: whatever happens next, auth: false later knows etcd-pulumi turned it on.
  if [ "$marker" = no ]; then run "adding role $AUTH_MARKER_ROLE" role add "$AUTH_MARKER_ROLE" >/dev/null; fi
  if [ "$status" = false ]; then
    run "turning authentication on" auth enable >/dev/null
    log "authentication turned on: every request is checked against its certificate's user from now on"
  fi
  # The member's own etcdctl certificate (every host script's identity) must still be root: auth status is admin-only.
  if [ -n "${AUTH_MEMBER_CERT:-}" ]; then
    out=$("$AUTH_ETCDCTL" --endpoints="$AUTH_ENDPOINTS" --cacert="$DIR/ca.crt" --cert="$AUTH_MEMBER_CERT" --key="$AUTH_MEMBER_KEY" \
      --dial-timeout=3s --command-timeout=10s auth status 2>&1) || fail "this member's etcdctl certificate ($AUTH_MEMBER_CERT) is refused with authentication on: $(brief "$out")"
  fi
  log "authentication on; $changes change(s) to users and roles"
else
  if [ "$status" = true ]; then
    run "turning authentication off" auth disable >/dev/null
    log "authentication turned off: etcd no longer checks permissions"
  fi
  if [ "$marker" = yes ]; then run "deleting role $AUTH_MARKER_ROLE" role delete "$AUTH_MARKER_ROLE" >/dev/null; fi
  log "authentication off; $changes change(s) to users and roles (kept for when it is turned on)"
fi
