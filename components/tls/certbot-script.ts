// The certbot container's script on a Docker host (tls.mode acme), rendered from the plan. Pure.
//
// Debian's certbot (the production guide's ACME client, maintained by Debian's security team)
// obtains the certificate over HTTP-01: it writes each challenge token into a webroot that nginx
// serves on port 80 (everything else there still redirects to HTTPS). Every few hours it runs
// `certbot renew`, which renews the certificate 30 days before it expires. Each new certificate is
// published where nginx reads it: a new folder, then one atomic rename of the `current` link, so
// nginx (which reads its certificate at every TLS handshake, see ../nginx/render-nginx-config.ts)
// serves it from the next handshake on, without a reload, and never pairs a certificate with the
// wrong key. A failed run leaves the published certificate alone (nginx keeps serving it), is
// retried within 5 minutes, and makes the container unhealthy (`acme.sh health`) until a run works.
import type { CertbotPlan } from "../plan/types";

/** Inside the certbot container. */
export const ACME_DIRS = {
  state: "/var/lib/chatapi-acme/state",
  public: "/var/lib/chatapi-acme/public",
} as const;
export const ACME_SCRIPT = "/etc/chatapi/acme.sh";
export const ACME_SERVER_CA = "/etc/chatapi/acme-server-ca.pem";
/** Seconds before the next try after a failed run (or the check interval, when shorter). */
export const ACME_RETRY_SECONDS = 300;

const quote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;

export function renderCertbotScript(domain: string, plan: CertbotPlan): string {
  if (!Number.isInteger(plan.renewCheckSeconds) || plan.renewCheckSeconds < 1)
    throw new Error(
      `the renewal check interval must be a whole number of seconds, not ${plan.renewCheckSeconds}`,
    );
  return `#!/bin/bash
# Rendered by the chatapi toolkit from the deployment plan (components/tls/certbot-script.ts).
# certbot for ${domain}: HTTP-01 through nginx's webroot, \`certbot renew\` every ${plan.renewCheckSeconds} s, each new
# certificate published by one atomic rename where nginx reads it at every handshake.
#   acme.sh          obtain, then check/renew on the schedule (the container's command)
#   acme.sh health   exit 0 while a valid certificate is published and the last run did not fail
set -u
domain=${quote(domain)}
email=${quote(plan.email)}
server=${quote(plan.server)}
interval=${plan.renewCheckSeconds}
retry=${Math.min(plan.renewCheckSeconds, ACME_RETRY_SECONDS)}
state=${ACME_DIRS.state}
public=${ACME_DIRS.public}
status=/tmp/acme-status
export HOME=/tmp
${plan.serverCa ? `export REQUESTS_CA_BUNDLE=${ACME_SERVER_CA} # the private ACME server's CA` : "# the ACME server is checked against the system's CAs"}

certbot_() {
  certbot --non-interactive --config-dir "$state/letsencrypt" --work-dir "$state/work" --logs-dir "$state/logs" "$@"
}

# The live certificate, unless it is already the published one: a new folder, then the link.
publish() {
  local live="$state/letsencrypt/live/$domain" name gen
  [ -e "$live/fullchain.pem" ] || return 0
  cmp -s "$live/fullchain.pem" "$public/certs/current/fullchain.pem" && return 0
  name=$(date +%s%N)
  gen="$public/certs/$name"
  mkdir -p "$public/certs" && mkdir -m 0750 "$gen" &&
    install -m 0640 "$live/fullchain.pem" "$gen/fullchain.pem" &&
    install -m 0640 "$live/privkey.pem" "$gen/privkey.pem" &&
    ln -sfn "$name" "$public/certs/current.new" &&
    mv -T "$public/certs/current.new" "$public/certs/current" || return 1
  echo "acme: published a new certificate for $domain: $(openssl x509 -noout -serial -enddate -in "$gen/fullchain.pem" | tr '\\n' ' ')"
  # The previous one stays (a handshake may be reading it right now); older ones go.
  find "$public/certs" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' ! -name "$name" -printf '%f\\n' |
    sort -r | tail -n +2 | while read -r old; do rm -rf "\${public:?}/certs/$old"; done
}

# One certbot run and its outcome, for the health check.
attempt() {
  local what=$1
  shift
  if certbot_ "$@" && publish; then
    echo "ok $(date -u +%FT%TZ) $what" >"$status"
    return 0
  fi
  echo "failed $(date -u +%FT%TZ) $what" >"$status"
  echo "acme: certbot $what failed; the published certificate is unchanged; next try in $retry s" >&2
  return 1
}

obtain_or_renew() {
  if [ -e "$state/letsencrypt/renewal/$domain.conf" ]; then
    # No random delay: certbot adds up to 8 minutes before a renewal run outside a terminal, to
    # spread cron jobs that fire at the same clock time; this loop counts from the container's
    # start instead, and the delay would hold back each retry and the health signal for nothing.
    attempt renew renew --cert-name "$domain" --no-random-sleep-on-renew
  else
    attempt obtain certonly --webroot --webroot-path "$public/webroot" --domain "$domain" --cert-name "$domain" \\
      --email "$email" --agree-tos --no-eff-email --server "$server" --key-type ecdsa
  fi
}

health() {
  local cert="$public/certs/current/fullchain.pem" last
  last=$(cat "$status" 2>/dev/null || echo "no run yet")
  if [ ! -s "$cert" ]; then
    echo "unhealthy: no certificate for $domain yet (last run: $last)"
    return 1
  fi
  local until
  until=$(openssl x509 -noout -enddate -in "$cert" | cut -d= -f2)
  if ! openssl x509 -checkend 0 -noout -in "$cert" >/dev/null; then
    echo "unhealthy: the certificate for $domain expired on $until (last run: $last)"
    return 1
  fi
  case $last in
  failed*)
    echo "unhealthy: the last certbot run failed ($last); nginx still serves the certificate valid until $until"
    return 1
    ;;
  esac
  echo "healthy: certificate for $domain valid until $until (last run: $last)"
}

if [ "\${1:-}" = health ]; then
  health
  exit
fi
mkdir -p "$public/webroot" "$public/certs"
trap 'exit 0' TERM INT
while :; do
  if obtain_or_renew; then wait_for=$interval; else wait_for=$retry; fi
  sleep "$wait_for" &
  wait $!
done
`;
}
