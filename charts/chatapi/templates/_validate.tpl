{{/*
Checks across values at render time; each failure names the value, what is wrong and what is
allowed. values.schema.json checks the same (so helm lint reports them) except the two ports,
which JSON Schema cannot compare; these still hold with --skip-schema-validation.
*/}}
{{- define "chatapi.validate" -}}
{{- $v := .Values -}}
{{- if eq (int $v.nginx.service.httpPort) (int $v.nginx.service.httpsPort) }}
{{- fail (printf "nginx.service.httpsPort: equals nginx.service.httpPort (%d); give HTTP and HTTPS two different ports" (int $v.nginx.service.httpPort)) }}
{{- end }}
{{- if and $v.smtp.existingSecret (not $v.smtp.host) }}
{{- fail "smtp.host: is required when smtp.existingSecret is set (the password is for an SMTP server)" }}
{{- end }}
{{- if and $v.backup.s3.existingSecret (not $v.backup.s3.bucket) }}
{{- fail "backup.s3.bucket: is required when backup.s3.existingSecret is set (the S3 credentials are for a bucket)" }}
{{- end }}
{{- if and $v.tls.certManager.enabled (not $v.tls.certManager.issuerName) }}
{{- fail "tls.certManager.issuerName: is required with tls.certManager.enabled (a cert-manager Issuer or ClusterIssuer)" }}
{{- end }}
{{- end }}

{{/*
Every Secret key the release's pods read, as a YAML list of {secret, key, create}: `create` is the
command that makes the Secret (shown when it is missing).
*/}}
{{- define "chatapi.requiredSecretKeys" -}}
{{- $v := .Values -}}
{{- $ns := .Release.Namespace -}}
{{- /* create-secrets.sh with the options these values need (the hosts and names go into the URLs) */ -}}
{{- $flags := list -}}
{{- range $key, $flag := dict "postgresql" "--postgres-host" "redis" "--redis-host" "rabbitmq" "--rabbitmq-host" }}
{{- with (index $v $key).service.name }}{{ $flags = append $flags (printf "%s %s" $flag .) }}{{ end }}
{{- end }}
{{- if ne $v.postgresql.auth.username "chatapi" }}{{ $flags = append $flags (printf "--postgres-user %s" $v.postgresql.auth.username) }}{{ end -}}
{{- if ne $v.postgresql.auth.database "chatapi" }}{{ $flags = append $flags (printf "--postgres-database %s" $v.postgresql.auth.database) }}{{ end -}}
{{- if and $v.redis.enabled (ne (toString $v.redis.resources.limits.memory) "1Gi") }}{{ $flags = append $flags (printf "--redis-memory-limit %s" (toString $v.redis.resources.limits.memory)) }}{{ end -}}
{{- $options := "" }}{{ range $flags }}{{ $options = printf "%s %s" $options . }}{{ end -}}
{{- $script := printf "charts/chatapi/scripts/create-secrets.sh --namespace %s%s %s" $ns $options .Release.Name -}}
{{- $generic := printf "kubectl -n %s create secret generic" $ns -}}
{{- $main := list -}}
{{- $main = append $main (list $v.postgresql.auth $v.postgresql.auth.databaseUrlKey) -}}
{{- if $v.postgresql.enabled }}{{ $main = append $main (list $v.postgresql.auth $v.postgresql.auth.passwordKey) }}{{ end -}}
{{- $main = append $main (list $v.redis.auth $v.redis.auth.urlKey) -}}
{{- if $v.redis.enabled }}
{{- $main = append $main (list $v.redis.auth $v.redis.auth.passwordKey) -}}
{{- $main = append $main (list $v.redis.auth $v.redis.auth.configKey) -}}
{{- end -}}
{{- $main = append $main (list $v.rabbitmq.auth $v.rabbitmq.auth.urlKey) -}}
{{- if $v.rabbitmq.enabled }}{{ $main = append $main (list $v.rabbitmq.auth $v.rabbitmq.auth.configKey) }}{{ end -}}
{{- $main = append $main (list $v.secretKey $v.secretKey.key) -}}
{{- $main = append $main (list $v.admin $v.admin.apiKeyKey) -}}
{{- range $main }}
{{- $name := include "chatapi.secretName" (dict "root" $ "section" (index . 0)) }}
- secret: {{ $name }}
  key: {{ index . 1 }}
  create: {{ if eq $name (printf "%s-secrets" (include "chatapi.fullname" $)) }}{{ $script }}{{ else }}{{ $script }} --name {{ $name }}{{ end }}
{{- end }}
{{- with $v.smtp.existingSecret }}
- {secret: {{ . }}, key: {{ $v.smtp.passwordKey }}, create: "{{ $generic }} {{ . }} --from-file={{ $v.smtp.passwordKey }}=<file with the SMTP password>"}
{{- end }}
{{- with $v.sentry.existingSecret }}
- {secret: {{ . }}, key: {{ $v.sentry.dsnKey }}, create: "{{ $generic }} {{ . }} --from-file={{ $v.sentry.dsnKey }}=<file with the DSN>"}
{{- end }}
{{- if and $v.backup.enabled $v.backup.s3.bucket $v.backup.s3.existingSecret }}
{{- range list $v.backup.s3.accessKeyIdKey $v.backup.s3.secretAccessKeyKey }}
- {secret: {{ $v.backup.s3.existingSecret }}, key: {{ . }}, create: "{{ $generic }} {{ $v.backup.s3.existingSecret }} --from-file={{ $v.backup.s3.accessKeyIdKey }}=<file> --from-file={{ $v.backup.s3.secretAccessKeyKey }}=<file>"}
{{- end }}
{{- end }}
{{- if not $v.tls.certManager.enabled }}
{{- $tls := include "chatapi.tlsSecretName" . }}
{{- range list "tls.crt" "tls.key" }}
- {secret: {{ $tls }}, key: {{ . }}, create: "kubectl -n {{ $ns }} create secret tls {{ $tls }} --cert=fullchain.pem --key=privkey.pem (or tls.certManager.enabled)"}
{{- end }}
{{- end }}
{{- end }}

{{/*
A Secret (or key) the pods read that is not in the namespace fails the install at once, naming it
and the command that creates it (else pods wait forever to mount it and `--wait` times out).
Only against a cluster: `helm template` and client-side dry runs get nothing from lookup (an empty
map, not a SecretList), and are not checked.
*/}}
{{- define "chatapi.validateSecrets" -}}
{{- $found := lookup "v1" "Secret" .Release.Namespace "" -}}
{{- if $found.kind }}
{{- $data := dict }}
{{- range $found.items }}{{ $_ := set $data .metadata.name (default (dict) .data) }}{{ end }}
{{- $missing := list }}
{{- $lacking := dict }}
{{- range include "chatapi.requiredSecretKeys" . | fromYamlArray }}
{{- if not (hasKey $data .secret) }}
{{- $missing = append $missing (printf "Secret %s is missing (create it: %s)" .secret .create) }}
{{- else if not (hasKey (get $data .secret) (toString .key)) }}
{{- $entry := get $lacking .secret | default (dict "keys" (list) "create" .create) }}
{{- $_ := set $entry "keys" (append $entry.keys (toString .key)) }}
{{- $_ := set $lacking .secret $entry }}
{{- end }}
{{- end }}
{{- range $name, $entry := $lacking }}
{{- $missing = append $missing (printf "Secret %s has no key %s (create it with every key: %s)" $name (join ", " $entry.keys) $entry.create) }}
{{- end }}
{{- if $missing }}
{{- fail (printf "the release reads Secrets that are not in namespace %s:\n  - %s" .Release.Namespace (join "\n  - " (uniq $missing))) }}
{{- end }}
{{- end }}
{{- end }}
