#!/usr/bin/env bash
# Creates the Secret the chatapi chart reads (the chart never creates a secret value itself),
# with the keys of its default values: passwords from the environment or generated here, and
# the connection URLs and data store config files built from them. Nothing is written outside a
# private temporary folder, which is removed on exit. An existing Secret is left alone (the data
# stores keep the passwords they were initialised with).
#
#   charts/chatapi/scripts/create-secrets.sh [options] RELEASE
#
# Options (defaults follow the chart's defaults; pass what you changed in your values):
#   -n, --namespace NS        namespace of the release (default: $NAMESPACE, else "default")
#   --fullname NAME           the chart's full name (default: RELEASE-chatapi, or RELEASE when it contains "chatapi")
#   --name NAME               the Secret (default: FULLNAME-secrets; = secrets.existingSecret)
#   --postgres-host HOST      (default: FULLNAME-postgres; = postgresql.service.name)
#   --redis-host HOST         (default: FULLNAME-redis)
#   --rabbitmq-host HOST      (default: FULLNAME-rabbitmq)
#   --postgres-user USER      (default: chatapi; = postgresql.auth.username)
#   --postgres-database DB    (default: chatapi; = postgresql.auth.database)
#   --rabbitmq-user USER      (default: chatapi)
#   --rabbitmq-vhost VHOST    (default: chatapi)
#   --redis-memory-limit Q    redis.resources.limits.memory (default: 1Gi); Redis gets maxmemory 80% of it
# Environment (each optional; unset passwords and keys are generated):
#   CHATAPI_SECRET_POSTGRES_PASSWORD, CHATAPI_SECRET_REDIS_PASSWORD, CHATAPI_SECRET_RABBITMQ_PASSWORD
#     (letters, digits and . _ ~ - only: they go into URLs), CHATAPI_SECRET_SECRET_KEY,
#     CHATAPI_SECRET_ADMIN_API_KEY
#   CHATAPI_SECRET_DATABASE_URL, CHATAPI_SECRET_REDIS_URL, CHATAPI_SECRET_RABBITMQ_URL: an
#     external store's URL (postgresql/redis/rabbitmq.enabled=false); its password and config keys are then not created
#   KUBECTL (default: kubectl)
set -euo pipefail

usage() { sed -n '8,28p' "$0" | sed 's/^# \{0,1\}//'; }
die() { printf 'create-secrets: %s\n' "$*" >&2; exit 2; }

namespace=${NAMESPACE:-default} fullname='' name='' release=''
pg_host='' redis_host='' rabbitmq_host=''
pg_user=chatapi pg_db=chatapi rabbitmq_user=chatapi rabbitmq_vhost=chatapi redis_limit=1Gi
while [ $# -gt 0 ]; do
  case "$1" in
    -n | --namespace) namespace=${2:?$1 needs a value}; shift 2 ;;
    --fullname) fullname=${2:?$1 needs a value}; shift 2 ;;
    --name) name=${2:?$1 needs a value}; shift 2 ;;
    --postgres-host) pg_host=${2:?$1 needs a value}; shift 2 ;;
    --redis-host) redis_host=${2:?$1 needs a value}; shift 2 ;;
    --rabbitmq-host) rabbitmq_host=${2:?$1 needs a value}; shift 2 ;;
    --postgres-user) pg_user=${2:?$1 needs a value}; shift 2 ;;
    --postgres-database) pg_db=${2:?$1 needs a value}; shift 2 ;;
    --rabbitmq-user) rabbitmq_user=${2:?$1 needs a value}; shift 2 ;;
    --rabbitmq-vhost) rabbitmq_vhost=${2:?$1 needs a value}; shift 2 ;;
    --redis-memory-limit) redis_limit=${2:?$1 needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$release" ] || die "one RELEASE only (got '$release' and '$1')"; release=$1; shift ;;
  esac
done
[ -n "$release" ] || die "give the release name (see --help)"
if [ -z "$fullname" ]; then
  case "$release" in *chatapi*) fullname=$release ;; *) fullname=$release-chatapi ;; esac
fi
name=${name:-$fullname-secrets}
pg_host=${pg_host:-$fullname-postgres}
redis_host=${redis_host:-$fullname-redis}
rabbitmq_host=${rabbitmq_host:-$fullname-rabbitmq}
KUBECTL=${KUBECTL:-kubectl}

# Redis refuses writes below its container's memory limit instead of being OOM-killed.
bytes() {
  local q=$1 n unit
  [[ $q =~ ^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$ ]] || die "--redis-memory-limit: '$q' is not a quantity such as 1Gi or 512Mi"
  n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
  case "$unit" in
    Ki) echo $((n * 1024)) ;; Mi) echo $((n * 1024 ** 2)) ;; Gi) echo $((n * 1024 ** 3)) ;; Ti) echo $((n * 1024 ** 4)) ;;
    k) echo $((n * 1000)) ;; M) echo $((n * 1000 ** 2)) ;; G) echo $((n * 1000 ** 3)) ;; T) echo $((n * 1000 ** 4)) ;;
    *) echo "$n" ;;
  esac
}
maxmemory=$(($(bytes "$redis_limit") * 8 / 10))

umask 077
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# No `| head -c`: under pipefail tr could die of SIGPIPE once head has enough, failing at random.
random() { local s; s=$(openssl rand -base64 $(($1 * 2)) | tr -dc 'A-Za-z0-9'); printf '%s' "${s:0:$1}"; }
password() { # env-variable length
  local value=${!1:-}
  if [ -z "$value" ]; then value=$(random "$2"); fi
  [[ $value =~ ^[A-Za-z0-9._~-]{16,128}$ ]] || die "$1: use 16 to 128 characters from A-Z a-z 0-9 . _ ~ - (it goes into a URL)"
  printf '%s' "$value"
}

if $KUBECTL -n "$namespace" get secret "$name" >/dev/null 2>&1; then
  echo "Secret $namespace/$name exists: left as it is"
  exit 0
fi

files=()
add() { files+=("--from-file=$1=$dir/$1"); }

if [ -n "${CHATAPI_SECRET_DATABASE_URL:-}" ]; then
  printf '%s' "$CHATAPI_SECRET_DATABASE_URL" >"$dir/database_url"
  add database_url
else
  password CHATAPI_SECRET_POSTGRES_PASSWORD 32 >"$dir/postgres_password"
  { printf '%s' "postgresql://$pg_user:"; cat "$dir/postgres_password"; printf '%s' "@$pg_host:5432/$pg_db"; } >"$dir/database_url"
  add postgres_password
  add database_url
fi

if [ -n "${CHATAPI_SECRET_REDIS_URL:-}" ]; then
  printf '%s' "$CHATAPI_SECRET_REDIS_URL" >"$dir/redis_url"
  add redis_url
else
  password CHATAPI_SECRET_REDIS_PASSWORD 32 >"$dir/redis_password"
  { printf '%s' 'redis://:'; cat "$dir/redis_password"; printf '%s' "@$redis_host:6379/0"; } >"$dir/redis_url"
  {
    printf '%s\n' '# Written by the chatapi toolkit. The password is why this file is a secret.'
    printf '%s\n' 'bind * -::*' 'port 6379' 'dir /data' 'appendonly yes'
    printf '%s\n' "maxmemory $maxmemory" 'maxmemory-policy noeviction'
    printf '%s' 'requirepass '
    cat "$dir/redis_password"
    printf '\n'
  } >"$dir/redis_conf"
  add redis_password
  add redis_url
  add redis_conf
fi

if [ -n "${CHATAPI_SECRET_RABBITMQ_URL:-}" ]; then
  printf '%s' "$CHATAPI_SECRET_RABBITMQ_URL" >"$dir/rabbitmq_url"
  add rabbitmq_url
else
  password CHATAPI_SECRET_RABBITMQ_PASSWORD 32 >"$dir/rabbitmq_password"
  { printf '%s' "amqp://$rabbitmq_user:"; cat "$dir/rabbitmq_password"; printf '%s' "@$rabbitmq_host:5672/$rabbitmq_vhost"; } >"$dir/rabbitmq_url"
  {
    printf '%s\n' '# Written by the chatapi toolkit: the first start creates this user and vhost.'
    printf '%s\n' "default_user = $rabbitmq_user"
    printf '%s' 'default_pass = '
    cat "$dir/rabbitmq_password"
    printf '\n%s\n' "default_vhost = $rabbitmq_vhost"
  } >"$dir/rabbitmq_conf"
  add rabbitmq_password
  add rabbitmq_url
  add rabbitmq_conf
fi

printf '%s' "${CHATAPI_SECRET_SECRET_KEY:-$(random 64)}" >"$dir/secret_key"
printf '%s' "${CHATAPI_SECRET_ADMIN_API_KEY:-$(random 48)}" >"$dir/admin_api_key"
add secret_key
add admin_api_key

$KUBECTL -n "$namespace" create secret generic "$name" "${files[@]}"
$KUBECTL -n "$namespace" label secret "$name" app.kubernetes.io/name=chatapi \
  "app.kubernetes.io/instance=$release" app.kubernetes.io/component=secrets app.kubernetes.io/part-of=chatapi
echo "Secret $namespace/$name created (keys: $(printf '%s\n' "${files[@]}" | sed 's/^--from-file=\([^=]*\)=.*/\1/' | paste -sd' '))"
