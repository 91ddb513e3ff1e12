{{/*
nginx.conf of the load balancer: the text components/nginx/render-nginx-config.ts renders for
the Pulumi target (the parity test compares them byte for byte).

Stickiness: /ws uses `hash $remote_addr`: each client address always reaches the same API pod.
Not `consistent`: nginx places consistent-hash points per server name, and every pod behind the
one headless Service name would share them (nginx would round-robin). Not `ip_hash` (it hashes a whole
IPv4 /24 onto one pod), not a cookie (WebSocket clients outside browsers rarely keep cookies).
Behind another proxy set nginx.trustedProxies so $remote_addr is the real client. The upstream is
the API's headless Service, re-resolved every 10 s (nginx >= 1.28), so it follows the HPA.
*/}}

{{- define "chatapi.nginxVersion" -}}
{{- $version := .Values.nginx.version | default (regexFind "^[0-9]+\\.[0-9]+" (toString .Values.nginx.image.tag)) -}}
{{- if not $version }}
{{- fail (printf "nginx.version: set the nginx version (major.minor) of image %s: its tag %q does not start with one" .Values.nginx.image.repository (toString .Values.nginx.image.tag)) }}
{{- end }}
{{- $version }}
{{- end }}

{{- define "chatapi.nginxUpstream" -}}
upstream {{ .name }} {
    {{ .balancing }}
{{- if .resolve }}
    zone {{ .name }} 64k;
    server {{ .host }}:8000 resolve max_fails=3 fail_timeout=10s;
{{- else }}
    server {{ .host }}:8000 max_fails=3 fail_timeout=10s;
{{- end }}
}
{{- end }}

{{- define "chatapi.nginxProxyHeaders" -}}
proxy_set_header Host $host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_set_header X-Forwarded-Proto $scheme;
{{- end }}

{{- define "chatapi.nginxConf" -}}
{{- $v := .Values.nginx -}}
{{- $version := include "chatapi.nginxVersion" . -}}
{{- $http2On := semverCompare ">=1.25-0" $version -}}
{{- $resolve := semverCompare ">=1.28-0" $version -}}
{{- $host := printf "%s-api-headless.%s.svc.%s" (include "chatapi.fullname" .) .Release.Namespace .Values.clusterDomain -}}
{{- $httpsPort := int $v.service.httpsPort -}}
{{- $redirectPort := ternary "" (printf ":%d" $httpsPort) (eq $httpsPort 443) -}}
# Rendered by the chatapi toolkit from the deployment plan; edit the stack config, not this file.
worker_processes auto;
worker_shutdown_timeout 10s;
pid /tmp/nginx.pid;
error_log stderr warn;
daemon off;

events {
    worker_connections 4096;
}

http {
    server_tokens off;
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout {{ $v.keepaliveTimeoutSeconds }}s;
    client_max_body_size {{ $v.clientMaxBodySize }};
    # An instance that is gone fails fast, and the request moves on to the next one.
    proxy_connect_timeout 5s;

    # One JSON object per request on stdout (the container runtime rotates it). The request is
    # logged without its query string: /ws carries the access token there (?token=), and anyone
    # who reads logs could replay it.
    map $request_uri $chatapi_request_path {
        "~^(?<chatapi_path>[^?]*)" $chatapi_path;
    }
    log_format chatapi_json escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",'
        '"request":"$request_method $chatapi_request_path $server_protocol","status":$status,"bytes_sent":$body_bytes_sent,'
        '"request_time":$request_time,"upstream":"$upstream_addr",'
        '"upstream_time":"$upstream_response_time","user_agent":"$http_user_agent"}';
    access_log /dev/stdout chatapi_json;
{{- if $v.trustedProxies }}

    # The client address behind trusted proxies (used for sticky hashing and logs).
{{- range $v.trustedProxies }}
    set_real_ip_from {{ . }};
{{- end }}
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
{{- end }}
{{- if $resolve }}

    resolver {{ $v.resolver }} valid=10s ipv6=off;
{{- end }}

    # Per client address, before any instance sees the request (see EDGE_LIMITS).
    limit_req_zone $binary_remote_addr zone=chatapi_api:10m rate=100r/s;
    limit_req_zone $binary_remote_addr zone=chatapi_ws:10m rate=20r/s;
    limit_conn_zone $binary_remote_addr zone=chatapi_conn:10m;
    limit_req_status 429;
    limit_conn_status 429;

    # The certificate and key are read at each TLS handshake (their paths hold a variable), so a
    # renewed certificate is served as soon as its files change: no reload, no connection cut.
    map $ssl_server_name $chatapi_tls_certificate { default /run/secrets/tls_certificate; }
    map $ssl_server_name $chatapi_tls_private_key { default /run/secrets/tls_private_key; }

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    # REST: round-robin over every API instance, keep-alive connections to them.
    {{- include "chatapi.nginxUpstream" (dict "name" "chatapi_backend" "balancing" "keepalive 32;" "host" $host "resolve" $resolve) | nindent 4 }}

    # WebSocket: sticky by client address (see the top of render-nginx-config.ts for why).
    {{- include "chatapi.nginxUpstream" (dict "name" "chatapi_websocket" "balancing" "hash $remote_addr;" "host" $host "resolve" $resolve) | nindent 4 }}

    server {
        listen 8080 default_server;
        server_name _;

        # Container health check (loopback only).
        location = /nginx-health {
            access_log off;
            allow 127.0.0.1;
            deny all;
            default_type text/plain;
            return 200 "ok\n";
        }

        location / {
            return 301 https://{{ .Values.domain }}{{ $redirectPort }}$request_uri;
        }
    }

    server {
{{- if $http2On }}
        listen 8443 ssl default_server;
        http2 on;
{{- else }}
        listen 8443 ssl http2 default_server;
{{- end }}
        server_name {{ .Values.domain }};

        ssl_certificate $chatapi_tls_certificate;
        ssl_certificate_key $chatapi_tls_private_key;
        ssl_dhparam /etc/nginx/chatapi/dhparam.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_session_timeout 1d;
        ssl_session_cache shared:MozSSL:10m;
        ssl_session_tickets off;

        proxy_hide_header Strict-Transport-Security;
        proxy_hide_header X-Content-Type-Options;
        add_header Strict-Transport-Security "max-age={{ int $v.hstsMaxAgeSeconds }}" always;
        add_header X-Content-Type-Options "nosniff" always;

        limit_conn chatapi_conn 1000;

        location {{ .Values.config.apiPrefix }}/ {
            limit_req zone=chatapi_api burst=200 nodelay;
            proxy_pass http://chatapi_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        {{- include "chatapi.nginxProxyHeaders" . | nindent 12 }}
        }

        location = /ws {
            limit_req zone=chatapi_ws burst=100 nodelay;
            proxy_pass http://chatapi_websocket;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        {{- include "chatapi.nginxProxyHeaders" . | nindent 12 }}
            proxy_read_timeout {{ int $v.wsReadTimeoutSeconds }}s;
            proxy_send_timeout {{ int $v.wsReadTimeoutSeconds }}s;
            proxy_buffering off;
            # nginx's error messages quote the whole request line, token included; the access log
            # still records every failure (status, upstream) without it.
            error_log stderr crit;
        }

        # Liveness for anyone; readiness (which probes every dependency) for private networks.
        location = /health {
            limit_req zone=chatapi_api burst=200 nodelay;
            proxy_pass http://chatapi_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        {{- include "chatapi.nginxProxyHeaders" . | nindent 12 }}
            access_log off;
        }

        location = /health/ready {
            allow 127.0.0.0/8;
            allow 10.0.0.0/8;
            allow 172.16.0.0/12;
            allow 192.168.0.0/16;
            allow ::1;
            allow fc00::/7;
            deny all;
            limit_req zone=chatapi_api burst=200 nodelay;
            proxy_pass http://chatapi_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        {{- include "chatapi.nginxProxyHeaders" . | nindent 12 }}
            access_log off;
        }

        # Nothing else is served (in particular not /metrics).
        location / {
            default_type application/json;
            return 404 '{"error":{"code":"not_found","message":"Not found"}}';
        }
    }
}
{{ end }}

{{- /*
The upstream watcher (components/nginx/upstream-watcher.ts renders the same script for the
Pulumi target): nginx before 1.28 resolves the API's headless Service only when it loads its
config, so a sidecar looks the name up every 5 s and reloads nginx when the pods' addresses
change (else a rolling update leaves nginx with the old pod IPs: 502).
*/}}
{{- define "chatapi.nginxWatcherScript" -}}
{{- $host := printf "%s-api-headless.%s.svc.%s" (include "chatapi.fullname" .) .Release.Namespace .Values.clusterDomain -}}
#!/bin/bash
# Rendered by the chatapi toolkit from the deployment plan (components/nginx/upstream-watcher.ts).
# Reloads nginx when the addresses of its DNS upstream change: this nginx resolves upstream
# names only when it loads its configuration.
set -u
name={{ $host }}
pidfile=/tmp/nginx.pid
interval=5
heartbeat=/tmp/upstream-watcher.alive
last=
while :; do
  : >"$heartbeat" # the probes check its age
  # Sorted, de-duplicated IPv4 addresses; empty while the name has none (nginx keeps its set).
  current=$(getent ahostsv4 "$name" | awk '{print $1}' | sort -u | tr '\n' ' ')
  if [ -n "$current" ] && [ "$current" != "$last" ]; then
    # The first round reloads too: the set may have changed between nginx's start and ours.
    if [ -s "$pidfile" ] && kill -HUP "$(cat "$pidfile")" 2>/dev/null; then
      echo "upstream-watcher: $name is ${current% }: reloaded nginx"
      last=$current
    fi
  fi
  sleep "$interval"
done
{{ end }}
