# shellcheck shell=bash
# Functions used by scripts/setup. Progress goes to stderr; each ensure_* prints one summary
# line ("<service>  <address>  <started|reused>  <details>") on stdout.

step() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
summary_line() { printf '%-10s %-34s %-8s %s\n' "$@"; }

# wait_for <what> <seconds> <log file or -> <command...>: poll until the command succeeds.
wait_for() {
  local what=$1 seconds=$2 log=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      [ "$log" != - ] && [ -f "$log" ] && tail -n 20 "$log" >&2
      die "$what did not answer within ${seconds}s"
    fi
    sleep 0.5
  done
}

# go_build_tool <name> <version> <binary> <time hint> <command...>: run the build command once, in
# a fresh folder, and keep the <binary> it made as $CHATAPI_CACHE/<name>-<version>/<binary>. One
# build at a time per tool (concurrent set-ups wait); the build's output goes to a log, whose tail
# and path are shown when it fails.
go_build_tool() {
  local name=$1 version=$2 binary=$3 hint=$4 dir=$CHATAPI_CACHE/$1-$2
  local log=$CHATAPI_CACHE/log/$1-build.log lock tmp t0=$SECONDS
  shift 4
  command -v go >/dev/null || die "Go is needed to build $name and is not on PATH"
  exec {lock}>"$CHATAPI_CACHE/.$name-build.lock"
  flock "$lock"
  if [ ! -x "$dir/$binary" ]; then
    rm -rf "$CHATAPI_CACHE/.$name-build".?????? # leftovers of an interrupted build (we hold the lock)
    step "building $name $version from Go modules ($hint, once; log: $log)"
    tmp=$(mktemp -d "$CHATAPI_CACHE/.$name-build.XXXXXX")
    if ! (cd "$tmp" && "$@") >"$log" 2>&1; then
      tail -n 15 "$log" >&2
      rm -rf "$tmp"
      die "building $name failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY)); full log: $log"
    fi
    mkdir -p "$dir" && mv "$tmp/$binary" "$dir/$binary" && rm -rf "$tmp"
    step "$name built in $((SECONDS - t0)) s"
  fi
  exec {lock}>&-
}

# go_install_tool <name> <version> <package@version> <time hint>: `go install` of a Go command.
go_install_tool() { go_build_tool "$1" "$2" "$1" "$4" go_install_here "$3"; }
go_install_here() { GOBIN=$PWD GOFLAGS=-trimpath go install -ldflags='-s -w' "$1"; }

apt_install() {
  local missing=() p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Test-service credentials: generated once, reused after. Never inside the checkout.
load_service_credentials() {
  local env_file=$CHATAPI_CACHE/services.env
  if [ ! -f "$env_file" ]; then
    umask 077
    cat >"$env_file" <<EOF
# Written by scripts/setup: credentials of the local test services (loopback only).
CHATAPI_TEST_PG_PASSWORD=$(openssl rand -hex 16)
CHATAPI_TEST_RABBITMQ_PASSWORD=$(openssl rand -hex 16)
EOF
  fi
  # shellcheck disable=SC1090
  source "$env_file"
  PG_URL="postgresql://chatapi:${CHATAPI_TEST_PG_PASSWORD}@127.0.0.1:5432/chatapi_test"
  RABBITMQ_URL="amqp://chatapi:${CHATAPI_TEST_RABBITMQ_PASSWORD}@127.0.0.1:5672/chatapi_test"
  # Derived URLs, rewritten every run so they follow the passwords above.
  local urls=$CHATAPI_CACHE/services.urls.env
  umask 077
  cat >"$urls" <<EOF
CHATAPI_TEST_DATABASE_URL=$PG_URL
CHATAPI_TEST_REDIS_URL=redis://127.0.0.1:6379/0
CHATAPI_TEST_RABBITMQ_URL=$RABBITMQ_URL
CHATAPI_TEST_SMTP_HOST=127.0.0.1
CHATAPI_TEST_SMTP_PORT=1025
CHATAPI_TEST_MAILPIT_URL=http://127.0.0.1:8025
EOF
  umask 022
}

pg_ready() { pg_isready -h 127.0.0.1 -p 5432 -q; }

ensure_postgres() {
  local state=reused cluster
  if ! pg_ready; then
    cluster=$(pg_lsclusters --no-header | awk '$3 == 5432 && !found {print $1 " " $2; found = 1}')
    [ -n "$cluster" ] || die "no PostgreSQL cluster on port 5432 (pg_lsclusters shows none); create one with pg_createcluster"
    step "starting PostgreSQL $cluster"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start >&2
    wait_for "PostgreSQL" 60 - pg_ready
    state=started
  fi
  # Our role and database only; CREATEDB so tests can make throwaway databases, and
  # pg_signal_backend so their `DROP DATABASE ... WITH (FORCE)` works while an autovacuum worker
  # is in one (PostgreSQL 15 checks that worker's role like a client's and refuses otherwise).
  su postgres -c "psql -qAt -v ON_ERROR_STOP=1" >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chatapi') THEN
    CREATE ROLE chatapi LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE chatapi WITH LOGIN CREATEDB PASSWORD '${CHATAPI_TEST_PG_PASSWORD}';
GRANT pg_signal_backend TO chatapi;
SELECT 'CREATE DATABASE chatapi_test OWNER chatapi'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chatapi_test')\gexec
SQL
  summary_line postgresql 127.0.0.1:5432 "$state" "database chatapi_test, role chatapi ($(pg_config --version 2>/dev/null || psql --version))"
}

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  local state=reused
  if ! redis_ready; then
    step "starting Redis"
    /etc/init.d/redis-server start >&2 2>/dev/null || true
    wait_for "Redis" 30 /var/log/redis/redis-server.log redis_ready
    state=started
  fi
  summary_line redis 127.0.0.1:6379 "$state" "$(redis-server --version | awk '{print $3}')"
}

rabbitmq_ready() { rabbitmq-diagnostics -q check_port_connectivity; }

ensure_rabbitmq() {
  local state=reused
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    step "starting RabbitMQ (about 10 s)"
    /etc/init.d/rabbitmq-server start >&2
    state=started
  fi
  wait_for "RabbitMQ" 90 "/var/log/rabbitmq/rabbit@$(hostname -s).log" rabbitmq_ready
  if ! rabbitmqctl -q authenticate_user chatapi "$CHATAPI_TEST_RABBITMQ_PASSWORD" >/dev/null 2>&1; then
    step "creating RabbitMQ user chatapi"
    rabbitmqctl -q add_user chatapi "$CHATAPI_TEST_RABBITMQ_PASSWORD" >/dev/null 2>&1 ||
      rabbitmqctl -q change_password chatapi "$CHATAPI_TEST_RABBITMQ_PASSWORD" >/dev/null
  fi
  local vhosts
  vhosts=$(rabbitmqctl -q list_vhosts name)
  if ! grep -qx chatapi_test <<<"$vhosts"; then
    rabbitmqctl -q add_vhost chatapi_test >/dev/null
    rabbitmqctl -q set_permissions -p chatapi_test chatapi '.*' '.*' '.*' >/dev/null
  fi
  summary_line rabbitmq 127.0.0.1:5672 "$state" "vhost chatapi_test, user chatapi"
}

MAILPIT_VERSION=v1.33.1

mailpit_ready() { curl -fsS http://127.0.0.1:8025/readyz; }

ensure_smtp_sink() {
  local state=reused dir=$CHATAPI_CACHE/mailpit-$MAILPIT_VERSION
  if ! mailpit_ready >/dev/null 2>&1; then
    go_install_tool mailpit "$MAILPIT_VERSION" "github.com/axllent/mailpit@$MAILPIT_VERSION" "about 2 min"
    step "starting the SMTP sink (mailpit)"
    nohup "$dir/mailpit" --smtp 127.0.0.1:1025 --listen 127.0.0.1:8025 \
      --smtp-auth-accept-any --smtp-auth-allow-insecure --max 5000 --disable-version-check \
      >"$CHATAPI_CACHE/log/mailpit.log" 2>&1 &
    echo $! >"$CHATAPI_CACHE/run/mailpit.pid"
    wait_for "mailpit" 30 "$CHATAPI_CACHE/log/mailpit.log" mailpit_ready
    state=started
  fi
  summary_line "smtp sink" 127.0.0.1:1025 "$state" "mailpit $MAILPIT_VERSION, API http://127.0.0.1:8025"
}

# An S3-compatible server for the backup tests: Versity S3 Gateway (Apache-2.0), built from Go
# modules like mailpit. Tests start their own instance (random port, private directory); setup
# only builds it and records its path.
VERSITYGW_VERSION=v1.8.0

ensure_s3_server() {
  local state=reused dir=$CHATAPI_CACHE/versitygw-$VERSITYGW_VERSION
  if [ ! -x "$dir/versitygw" ]; then
    go_install_tool versitygw "$VERSITYGW_VERSION" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" "about 5 min"
    state=built
  fi
  record_tool CHATAPI_TEST_VERSITYGW "$dir/versitygw"
  summary_line "s3 server" "$dir/versitygw" "$state" "versitygw $VERSITYGW_VERSION (tests start private instances)"
}

# record_tool NAME PATH: one line of tools.env (its own file: services.urls.env is rewritten by
# every setup run), the other tools' lines kept.
record_tool() {
  local file=$CHATAPI_CACHE/tools.env lines=""
  [ -f "$file" ] && lines=$(grep -v "^$1=" "$file" || true)
  printf '%s%s=%s\n' "${lines:+$lines
}" "$1" "$2" >"$file.tmp" && mv "$file.tmp" "$file"
}

# Let's Encrypt's test ACME server (Pebble) and its DNS/challenge test server, for the ACME tests
# (certbot against a real ACME server, HTTP-01 through the stack's nginx). Built from Go modules;
# tests start their own instances.
PEBBLE_VERSION=v2.10.3

ensure_acme_test_server() {
  local state=reused
  for tool in pebble pebble-challtestsrv; do
    if [ ! -x "$CHATAPI_CACHE/$tool-$PEBBLE_VERSION/$tool" ]; then
      go_install_tool "$tool" "$PEBBLE_VERSION" "github.com/letsencrypt/pebble/v2/cmd/$tool@$PEBBLE_VERSION" "about 1 min"
      state=built
    fi
  done
  record_tool CHATAPI_TEST_PEBBLE "$CHATAPI_CACHE/pebble-$PEBBLE_VERSION/pebble"
  record_tool CHATAPI_TEST_PEBBLE_CHALLTESTSRV "$CHATAPI_CACHE/pebble-challtestsrv-$PEBBLE_VERSION/pebble-challtestsrv"
  summary_line "acme server" "$CHATAPI_CACHE/pebble-$PEBBLE_VERSION" "$state" "pebble $PEBBLE_VERSION + pebble-challtestsrv (tests start private instances)"
}

describe_nginx() {
  command -v nginx >/dev/null || die "nginx is not installed"
  summary_line nginx "$(command -v nginx)" ready "$(nginx -v 2>&1 | sed 's/.*version: //') (tests run their own instances on loopback)"
}

MONITORING_PACKAGES=(prometheus prometheus-alertmanager prometheus-pushgateway prometheus-postgres-exporter
  prometheus-redis-exporter prometheus-node-exporter prometheus-nginx-exporter prometheus-blackbox-exporter)

# Installed, never started as services (the tests start private instances on free ports).
describe_monitoring() {
  local p
  for p in promtool amtool prometheus prometheus-pushgateway prometheus-postgres-exporter prometheus-redis-exporter \
    prometheus-node-exporter prometheus-nginx-exporter prometheus-blackbox-exporter; do
    command -v "$p" >/dev/null || die "$p is not installed (Debian's ${MONITORING_PACKAGES[*]})"
  done
  summary_line monitoring "$(command -v prometheus)" ready "$(prometheus --version 2>&1 | awk 'NR == 1 {print $1, $3}'), promtool, amtool, pushgateway, exporters (tests run their own)"
}

# Compose v2+ (the docker CLI plugin `docker compose`): Docker's own Go module
# github.com/docker/compose/v5, built once into $CHATAPI_CACHE/compose-<version>/ and installed
# where the docker CLI looks for plugins. v5.6.0 is the newest that builds with Go 1.26.8 (v5.7
# asks for a newer Go). Its go.mod has `exclude` lines, which `go install pkg@version` refuses:
# a wrapper module requires it and copies them.
COMPOSE_VERSION=v5.6.0

# The plugin folder of the docker CLI: system-wide as root, the user's own otherwise.
compose_plugin_dir() {
  if [ "$(id -u)" = 0 ]; then echo /usr/local/lib/docker/cli-plugins; else echo "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"; fi
}

build_compose_plugin() { go_build_tool compose "$COMPOSE_VERSION" docker-compose "about 1-4 min" compose_build_here; }

# The wrapper module (its go line and exclude lines copied from compose's go.mod), then the build,
# in the current folder. Every step is checked: set -e does not apply inside an && list.
compose_build_here() {
  local mod=github.com/docker/compose/v5 gomod
  export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod"
  gomod=$(go mod download -json "$mod@$COMPOSE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$gomod" ] || return 1
  {
    printf 'module chatapi.local/toolchain/compose\n\ngo %s\n\nrequire %s %s\n\n' \
      "$(sed -n 's/^go //p' "$gomod")" "$mod" "$COMPOSE_VERSION"
    printf '// copied from %s@%s go.mod\n' "$mod" "$COMPOSE_VERSION"
    awk '/^exclude[ \t]*\(/ { print; block = 1; next } block { print; if ($0 ~ /^\)/) block = 0 }' "$gomod"
  } >go.mod || return 1
  go get "$mod/cmd@$COMPOSE_VERSION" || return 1
  go build -trimpath -o docker-compose -ldflags "-s -w -X $mod/internal.Version=$COMPOSE_VERSION" "$mod/cmd" || return 1
  ./docker-compose version
}

# Installs the built plugin for the docker CLI (a copy: a user's CLI cannot read root's cache).
install_compose_plugin() {
  local built=$CHATAPI_CACHE/compose-$COMPOSE_VERSION/docker-compose plugins
  plugins=$(compose_plugin_dir)
  cmp -s "$built" "$plugins/docker-compose" && return 0
  mkdir -p "$plugins"
  install -m 0755 "$built" "$plugins/.docker-compose.tmp"
  mv -f "$plugins/.docker-compose.tmp" "$plugins/docker-compose"
  step "installed Compose $COMPOSE_VERSION as the docker CLI plugin $plugins/docker-compose"
}

# Compose for the local stack: v2+ (`docker compose`) when the docker CLI has it; else built from
# Go modules when Go is here; else Compose v1 (`docker-compose`, end of life) as a fallback.
# --for test needs both: the local stack's tests run with each.
compose_v2_version() { docker compose version --short 2>/dev/null; }
compose_v1_version() { docker-compose version --short 2>/dev/null; }

ensure_compose() {
  local mode=$1 state=reused v2 v1
  if ! v2=$(compose_v2_version) || [ -z "$v2" ]; then
    if command -v go >/dev/null; then
      build_compose_plugin
      install_compose_plugin
      v2=$(compose_v2_version) || die "docker compose does not answer after installing the plugin in $(compose_plugin_dir)"
      state=built
    elif [ "$mode" = test ] || ! compose_v1_version >/dev/null; then
      die "Compose v2 is missing: install the Docker Compose plugin (Docker CE: docker-compose-plugin; https://docs.docker.com/compose/install/), or Go >= 1.26 so that setup builds it from Go modules"
    fi
  fi
  v1=$(compose_v1_version) || v1=""
  [ "$mode" != test ] || [ -n "$v1" ] || die "docker-compose (Compose v1) is missing: the tests of the v1 fallback need it (apt-get install docker-compose)"
  if [ -n "$v2" ]; then
    summary_line compose "docker compose" "$state" "Compose $v2 (the docker CLI plugin)${v1:+; docker-compose $v1 (v1, the fallback)}"
  else
    summary_line compose docker-compose reused "Compose $v1: v1 is end of life, used only as a fallback (install the docker-compose-plugin, or Go so that setup builds Compose v2)"
  fi
}

docker_ready() { docker info; }

# Why this user cannot reach the engine, and what to do about it.
explain_docker_unreachable() {
  local err
  err=$(docker info 2>&1 >/dev/null) || true
  case $err in
    *"permission denied"*)
      die "$(id -un) may not use the Docker engine (permission denied on its socket): add the user to the docker group (sudo usermod -aG docker $(id -un)), then log in again" ;;
    *) die "the Docker engine is not running or not reachable (${err%%$'\n'*}): start it (sudo systemctl start docker), then run this again" ;;
  esac
}

# No Docker engine here: neither dockerd installed (Docker CE's or Debian's) nor one answering
# (a remote DOCKER_HOST, Docker Desktop). A docker client alone (a static /usr/local/bin/docker)
# is not an engine: a fresh machine of this kind has only that.
docker_engine_missing() {
  local engine
  # /usr/sbin is not on a normal user's PATH on Debian: look there too.
  for engine in "$(command -v dockerd)" /usr/sbin/dockerd /usr/bin/dockerd; do
    [ -n "$engine" ] && [ -x "$engine" ] && return 1
  done
  [ -S /var/run/docker.sock ] && return 1
  ! docker info >/dev/null 2>&1
}

ensure_docker() {
  local state=reused
  if ! docker_ready >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || explain_docker_unreachable
    step "starting the Docker engine (dockerd)"
    nohup dockerd >"$CHATAPI_CACHE/log/dockerd.log" 2>&1 &
    wait_for "dockerd" 60 "$CHATAPI_CACHE/log/dockerd.log" docker_ready
    state=started
  fi
  summary_line docker "$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || echo unix:///var/run/docker.sock)" "$state" "engine $(docker version -f '{{.Server.Version}}')"
}

is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }
os_name() { (. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-$ID}") || uname -s; }

# What the local stack needs from the machine. As root on Debian, apt installs what is missing;
# anywhere else setup installs nothing: it names what is missing and how to install it.
ensure_local_prerequisites() {
  local missing=() packages=() node_major
  if ! command -v docker >/dev/null; then
    missing+=("docker (the Docker CLI and engine)")
    packages+=(docker.io)
  elif docker_engine_missing; then
    missing+=("the Docker engine (dockerd: only a docker client is installed)")
    packages+=(docker.io)
  fi
  # Not root: the stack's mounted files stay yours, and its containers read them through ACLs.
  [ "$(id -u)" = 0 ] || command -v setfacl >/dev/null || { missing+=("setfacl"); packages+=(acl); }
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || node_major=0
  if [ "$node_major" != 20 ] && [ "$node_major" -lt 22 ]; then
    die "Node.js 20 or >= 22 is needed (found: $(node --version 2>/dev/null || echo none)): https://nodejs.org/en/download or your system's packages"
  fi
  command -v npm >/dev/null || die "npm is missing (it comes with Node.js: https://nodejs.org/en/download)"
  if [ ${#missing[@]} -gt 0 ]; then
    local list
    list=$(printf '%s, ' "${missing[@]}")
    list=${list%, }
    if [ "$(id -u)" = 0 ] && is_debian; then
      apt_install "${packages[@]}"
    elif is_debian; then
      die "missing: $list. Install with: sudo apt-get install ${packages[*]}$([[ " ${packages[*]} " == *" docker.io "* ]] && echo " (or Docker CE: https://docs.docker.com/engine/install/debian/), then add yourself to the docker group: sudo usermod -aG docker $(id -un)")"
    else
      die "missing: $list. This is $(os_name), not Debian, so setup installs nothing: install them with your system's packages (Docker Engine with the Compose plugin: https://docs.docker.com/engine/install/; setfacl: the acl package), be in the docker group, then run this again"
    fi
  fi
  summary_line tools "$(command -v docker)" ready "docker CLI $(docker version -f '{{.Client.Version}}' 2>/dev/null), node $(node --version), npm $(npm --version)"
}

# A normal user in the docker group: the tests run the local stack as a developer would, not as
# root. Created once; nothing else of the machine changes for it.
DOCKER_TEST_USER=chatapi-dev

ensure_docker_user() {
  local state=reused
  if ! id -u "$DOCKER_TEST_USER" >/dev/null 2>&1; then
    getent group docker >/dev/null || groupadd --system docker
    useradd --create-home --shell /bin/bash --groups docker "$DOCKER_TEST_USER"
    state=created
  elif [[ " $(id -nG "$DOCKER_TEST_USER") " != *" docker "* ]]; then
    usermod -aG docker "$DOCKER_TEST_USER"
    state=updated
  fi
  summary_line user "$DOCKER_TEST_USER" "$state" "uid $(id -u "$DOCKER_TEST_USER"), groups $(id -nG "$DOCKER_TEST_USER") (runs the local stack in the non-root test)"
}

# npm ci only when package-lock.json changed since the last install.
ensure_npm_deps() {
  local stamp=$ROOT/node_modules/.chatapi-lock.sha256 want
  want=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    step "npm dependencies: up to date"
    return 0
  fi
  step "installing npm dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2
  echo "$want" >"$stamp"
}

build_workspace() {
  step "building the app (tsc)"
  (cd "$ROOT" && npm run --silent build) >&2
}

# Kubernetes JSON schemas (strict: unknown fields rejected) from the kubernetes-validate
# package on PyPI (maintained; generated from each Kubernetes release's OpenAPI spec). Only the
# schemas of the version the project targets are kept, outside the checkout.
KUBERNETES_VALIDATE_VERSION=1.37.0
KUBERNETES_VALIDATE_SHA256=85136d018a27b50ec7fc049d902bfa5193f5976807e6c0f408e3ab6fe078cad9
KUBERNETES_SCHEMA_VERSION=v1.33.0

ensure_kubernetes_schemas() {
  local dir=$CHATAPI_CACHE/kubernetes-json-schema/$KUBERNETES_SCHEMA_VERSION-local-strict state=reused
  if [ ! -f "$dir/_definitions.json" ]; then
    command -v python3 >/dev/null || die "python3 is needed to fetch the Kubernetes schemas"
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    step "fetching Kubernetes $KUBERNETES_SCHEMA_VERSION JSON schemas (kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI)"
    local tmp
    tmp=$(mktemp -d "$CHATAPI_CACHE/.schemas.XXXXXX")
    printf 'kubernetes-validate==%s --hash=sha256:%s\n' "$KUBERNETES_VALIDATE_VERSION" "$KUBERNETES_VALIDATE_SHA256" >"$tmp/requirements.txt"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
      -r "$tmp/requirements.txt" -d "$tmp" >&2 ||
      die "downloading kubernetes-validate from PyPI failed (is PyPI reachable?)"
    python3 - "$tmp" "$KUBERNETES_SCHEMA_VERSION-local-strict" <<'PY' >&2
import glob, os, sys, zipfile
tmp, flavour = sys.argv[1], sys.argv[2]
prefix = f"kubernetes_validate/kubernetes-json-schema/{flavour}/"
with zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0]) as wheel:
    names = [n for n in wheel.namelist() if n.startswith(prefix) and n.endswith(".json")]
    if not names:
        sys.exit(f"the wheel has no {flavour} schemas")
    out = os.path.join(tmp, flavour)
    os.makedirs(out)
    for name in names:
        with open(os.path.join(out, name[len(prefix):]), "wb") as f:
            f.write(wheel.read(name))
PY
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir" && mv "$tmp/$KUBERNETES_SCHEMA_VERSION-local-strict" "$dir" && rm -rf "$tmp"
    state=fetched
  fi
  summary_line k8s-schema "$dir" "$state" "Kubernetes $KUBERNETES_SCHEMA_VERSION strict JSON schemas ($(find "$dir" -name '*.json' | wc -l) files)"
}

# The real Pulumi engine (CLI, Node.js language host, policy analyzer, Kubernetes provider) and
# helm, compiled from Go modules into the cache by scripts/pulumi-toolchain: long the first time
# on a machine (docs/pulumi-toolchain.md has the times), about a second when cached. The engine
# and helm tests need them; a failed build stops setup.
ensure_pulumi_toolchain() {
  local tool=$ROOT/scripts/pulumi-toolchain state=reused
  command -v go >/dev/null || die "Go is needed to build the Pulumi toolchain and is not on PATH"
  if ! "$tool" check >/dev/null 2>&1; then
    step "building the Pulumi engine toolchain and helm from Go modules (long the first time; cached in $CHATAPI_CACHE)"
    state=built
  fi
  "$tool" build >&2 || die "building the Pulumi toolchain failed (logs: $CHATAPI_CACHE/log/pulumi-toolchain/)"
  "$tool" check >&2 || die "the Pulumi toolchain does not work after the build (see above)"
  # shellcheck source=scripts/toolchain-versions
  . "$ROOT/scripts/toolchain-versions"
  summary_line pulumi "$CHATAPI_CACHE/pulumi-$PULUMI_VERSION" "$state" "CLI $PULUMI_VERSION, nodejs host $PULUMI_LANGUAGE_NODEJS_VERSION, kubernetes $KUBERNETES_PROVIDER_VERSION, helm $HELM_VERSION"
}

# The newest Pulumi CLI that builds here (PULUMI_NEWEST_VERSION): the engine tests run the engine
# stack with it too. Long the first time (20 min on 2 busy cores; much of it shared with the
# pinned CLI's Go build cache), so setup runs it in the background beside the other steps.
ensure_pulumi_newest() {
  local tool=$ROOT/scripts/pulumi-toolchain state=reused
  "$tool" check --newest >/dev/null 2>&1 || state=built
  "$tool" build --only cli-newest >&2 || die "building the newest Pulumi CLI failed (logs: $CHATAPI_CACHE/log/pulumi-toolchain/)"
  "$tool" check --newest >&2 || die "the newest Pulumi CLI does not work after the build (see above)"
  # shellcheck source=scripts/toolchain-versions
  . "$ROOT/scripts/toolchain-versions"
  summary_line pulumi "$CHATAPI_CACHE/pulumi-$PULUMI_NEWEST_VERSION" "$state" "CLI $PULUMI_NEWEST_VERSION (newest buildable; the engine tests run it too, policy packs excepted)"
}

# actionlint checks .github/workflows (test/workflows.test.ts); built from its Go module.
ACTIONLINT_VERSION=v1.7.12

ensure_actionlint() {
  local dir=$CHATAPI_CACHE/actionlint-$ACTIONLINT_VERSION state=reused
  if [ ! -x "$dir/actionlint" ]; then
    go_install_tool actionlint "$ACTIONLINT_VERSION" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" "about 30 s"
    state=built
  fi
  local version
  version=$("$dir/actionlint" --version)
  summary_line actionlint "$dir/actionlint" "$state" "${version%%$'\n'*}"
}

# The offline images (scripts/images: chatapi-local/*, from Debian packages and the pinned Node.js
# 24) and the app image built from app/Dockerfile on them (scripts/app-image --offline): what the
# tests here run, as no registry can be reached. Both are cached by their inputs: a second run
# takes seconds.
ensure_images() {
  step "offline images (scripts/images: about 5 min the first time, then cached)"
  "$ROOT/scripts/images" | sed -u 's/^/  /' >&2 || die "building the offline images failed (see above)"
  step "app image (scripts/app-image: about 2 min the first time, then cached)"
  "$ROOT/scripts/app-image" --offline | sed -u 's/^/  /' >&2 || die "building the app image failed (see above)"
  local count
  count=$("$ROOT/scripts/images" --list | wc -l)
  summary_line images "${CHATAPI_IMAGE_PREFIX:-chatapi-local}/*" ready "$count offline images, app image chatapi-local/chatapi:$(node -p "require('$ROOT/app/package.json').version")"
}

# The local Kubernetes cluster's binaries (scripts/cluster build: Kubernetes, etcd, CoreDNS, ...
# from Go modules, its Debian packages, its own small images), cached by version in
# $CHATAPI_CACHE: the cluster tests start it with `scripts/cluster up` in seconds. Long the
# first time (25-50 min on 2 busy cores), a no-op after.
ensure_cluster_build() {
  local state=reused
  # shellcheck source=scripts/cluster.d/versions
  . "$ROOT/scripts/cluster.d/versions"
  [ -x "$CHATAPI_CACHE/kubernetes-$KUBERNETES_VERSION/kubelet" ] || state=built
  step "local Kubernetes cluster binaries (scripts/cluster build: 25-50 min the first time, then cached)"
  "$ROOT/scripts/cluster" build >&2 || die "building the local cluster failed (logs: $CHATAPI_CACHE/log/)"
  summary_line cluster "$CHATAPI_CACHE/cluster" "$state" "scripts/cluster up starts it (the cluster tests do)"
}
