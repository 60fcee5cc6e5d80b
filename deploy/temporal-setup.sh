#!/bin/sh
# One shot in temporalio/admin-tools (docker-compose.yml, service temporal-setup): waits for the
# Temporal server to serve, creates Herald's namespace, and registers Herald's search attributes
# (HERALD_SEARCH_ATTRIBUTES, all Keyword: workflows/definitions.ts SEARCH_ATTRIBUTES). Safe to
# rerun: an existing namespace or attribute is left as it is.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${HERALD_SEARCH_ATTRIBUTES:?}"
ns=${TEMPORAL_NAMESPACE:-default}
retention=${NAMESPACE_RETENTION:-24h}

# retry TRIES WHAT COMMAND...: runs COMMAND every 2 s until it succeeds, at most TRIES times.
retry() {
  limit=$1
  what=$2
  shift 2
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "$limit" ]; then
      echo "temporal-setup: $what after $((limit * 2)) s" >&2
      exit 1
    fi
    sleep 2
  done
}

serving() { temporal operator cluster health 2>/dev/null | grep -qw SERVING; }

# The server's health check only sees its port open; wait until the frontend answers SERVING.
retry 90 "$TEMPORAL_ADDRESS did not answer SERVING" serving

created=0
if out=$(temporal operator namespace create --namespace "$ns" --retention "$retention" 2>&1); then
  echo "temporal-setup: namespace $ns created"
  created=1
else
  case $out in
    *[Aa]lready*[Ee]xists* | *AlreadyExists*) echo "temporal-setup: namespace $ns already exists" ;;
    *) echo "$out" >&2; exit 1 ;;
  esac
fi

# A namespace just created takes a few seconds to reach every service's namespace cache.
retry 30 "namespace $ns not visible" temporal operator namespace describe --namespace "$ns"

# Creating an attribute that exists with the same type succeeds, so look first: `created` says
# whether anything changed.
existing=$(temporal operator search-attribute list --namespace "$ns")
for name in $HERALD_SEARCH_ATTRIBUTES; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "temporal-setup: search attribute $name already registered"
  elif temporal operator search-attribute create --namespace "$ns" --name "$name" --type Keyword; then
    echo "temporal-setup: search attribute $name registered"
    created=1
  else
    echo "temporal-setup: could not register search attribute $name" >&2
    exit 1
  fi
done

# With system.forceSearchAttributesCacheRefreshOnRead off (deploy/temporal-dynamic-config.yaml),
# each server service refreshes its search-attribute and namespace caches on a timer (60 s at
# most). On a first start, wait that out so Herald's first workflows do not upsert an attribute a
# history service has not seen yet.
if [ "$created" -eq 1 ]; then
  echo 'temporal-setup: waiting 65 s for the server caches to pick up the changes'
  sleep 65
fi
echo 'temporal-setup: done'
