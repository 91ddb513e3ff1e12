{{/*
The chat service's processes (API, workers, migration, admin bootstrap, backups) all run the
one app image (`chatapi <command>`). Secrets reach them only as files under /run/secrets named
by <NAME>_FILE variables; the file names are fixed, the Secret and key each comes from are values.
*/}}

{{/*
The secret files of one app process, as a YAML list of {file, env, secret, key}. Call with
(dict "root" $ "component" "api"). Each command gets only what it uses (the plan's APP_SECRETS in
components/plan/workloads/app.ts): only the API gets SECRET_KEY, only the worker the SMTP
password; migration, admin bootstrap and backups get DATABASE_URL alone.
*/}}
{{- define "chatapi.appSecretFiles" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $lists := dict
  "api" (list "database" "redis" "redisCluster" "rabbitmq" "secretKey" "sentry")
  "worker" (list "database" "redis" "rabbitmq" "smtp" "sentry")
  "migrate" (list "database")
  "bootstrap-admin" (list "database")
  "backup" (list "database")
-}}
{{- $needs := get $lists .component -}}
{{- if not $needs }}{{ fail (printf "chatapi.appSecretFiles: no secret list for %s" .component) }}{{ end }}
{{- if has "database" $needs }}
- file: database_url
  env: DATABASE_URL_FILE
  secret: {{ include "chatapi.secretName" (dict "root" $root "section" $v.postgresql.auth) }}
  key: {{ $v.postgresql.auth.databaseUrlKey }}
{{- end }}
{{- if has "redis" $needs }}
- file: redis_url
  env: REDIS_URL_FILE
  secret: {{ include "chatapi.secretName" (dict "root" $root "section" $v.redis.auth) }}
  key: {{ $v.redis.auth.urlKey }}
{{- end }}
{{- if and (has "redisCluster" $needs) $v.redis.fanoutCluster.nodes $v.redis.fanoutCluster.existingSecret }}
- file: redis_cluster_password
  env: FANOUT_REDIS_CLUSTER_PASSWORD_FILE
  secret: {{ $v.redis.fanoutCluster.existingSecret }}
  key: {{ $v.redis.fanoutCluster.passwordKey }}
{{- end }}
{{- if has "rabbitmq" $needs }}
- file: rabbitmq_url
  env: RABBITMQ_URL_FILE
  secret: {{ include "chatapi.secretName" (dict "root" $root "section" $v.rabbitmq.auth) }}
  key: {{ $v.rabbitmq.auth.urlKey }}
{{- end }}
{{- if has "secretKey" $needs }}
- file: secret_key
  env: SECRET_KEY_FILE
  secret: {{ include "chatapi.secretName" (dict "root" $root "section" $v.secretKey) }}
  key: {{ $v.secretKey.key }}
{{- end }}
{{- if and (has "smtp" $needs) $v.smtp.existingSecret }}
- file: smtp_password
  env: SMTP_PASSWORD_FILE
  secret: {{ $v.smtp.existingSecret }}
  key: {{ $v.smtp.passwordKey }}
{{- end }}
{{- if and (has "sentry" $needs) $v.sentry.existingSecret }}
- file: sentry_dsn
  env: SENTRY_DSN_FILE
  secret: {{ $v.sentry.existingSecret }}
  key: {{ $v.sentry.dsnKey }}
{{- end }}
{{- end }}

{{/*
env of an app process: the plain settings, its own variables (.env), a <NAME>_FILE path per
secret file (.files), sorted by name; then INSTANCE_NAME (the pod's name) when .instanceEnv.
*/}}
{{- define "chatapi.appEnv" -}}
{{- $v := .root.Values -}}
{{- $env := dict
  "ENVIRONMENT" $v.environment
  "DEBUG" (toString $v.config.debug)
  "LOG_LEVEL" $v.config.logLevel
  "PROJECT_NAME" $v.config.projectName
  "API_V1_STR" $v.config.apiPrefix
  "ACCESS_TOKEN_EXPIRE_MINUTES" (printf "%d" (int $v.config.accessTokenExpireMinutes))
  "REFRESH_TOKEN_EXPIRE_DAYS" (printf "%d" (int $v.config.refreshTokenExpireDays))
  "DATABASE_POOL_SIZE" (printf "%d" (int $v.config.databasePoolSize))
  "DATABASE_MAX_OVERFLOW" (printf "%d" (int $v.config.databaseMaxOverflow))
  "BACKEND_CORS_ORIGINS" (toJson (default (list (include "chatapi.origin" .root)) $v.config.corsOrigins))
  "EMAILS_FROM_EMAIL" (default (printf "noreply@%s" (include "chatapi.mailDomain" .root)) $v.smtp.from)
-}}
{{- if $v.smtp.host }}
{{- $_ := set $env "SMTP_HOST" $v.smtp.host }}
{{- $_ := set $env "SMTP_PORT" (printf "%d" (int $v.smtp.port)) }}
{{- with $v.smtp.user }}{{ $_ := set $env "SMTP_USER" . }}{{ end }}
{{- end }}
{{- range $name, $value := .env }}{{ $_ := set $env $name $value }}{{ end }}
{{- range .files }}
{{- if .env }}{{ $_ := set $env .env (printf "/run/secrets/%s" .file) }}{{ end }}
{{- end }}
{{- range $name, $value := $env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- if .instanceEnv }}
- name: INSTANCE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- end }}

{{/* The secrets volume of an app process from its secret files. */}}
{{- define "chatapi.appSecretsVolume" -}}
{{- $items := list -}}
{{- range . }}
{{- $items = append $items (dict "secret" .secret "key" .key "path" .file) }}
{{- end }}
{{- include "chatapi.secretsVolume" $items }}
{{- end }}

{{/*
The container of an app process. Call with (dict "root" $ "component" "api" "values" <section>
"args" (list ...) "env" (dict ...) "files" <secret files> "instanceEnv" bool "tmpSize" "64Mi"
"ports" <YAML> "probes" <YAML> "extraMounts" <YAML>).
*/}}
{{- define "chatapi.appContainer" -}}
- name: {{ .component }}
  image: {{ include "chatapi.appImage" .root }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command:
    - chatapi
  args:
    {{- toYaml .args | nindent 4 }}
  env:
    {{- include "chatapi.appEnv" . | trim | nindent 4 }}
  {{- with .ports }}
  ports:
    {{- . | nindent 4 }}
  {{- end }}
  resources:
    {{- toYaml .values.resources | nindent 4 }}
  securityContext:
    {{- include "chatapi.containerSecurityContext" . | nindent 4 }}
  {{- with .probes }}
  {{- . | nindent 2 }}
  {{- end }}
  volumeMounts:
    {{- include "chatapi.secretsMount" . | nindent 4 }}
    {{- include "chatapi.tmpfsMount" (dict "path" "/tmp") | nindent 4 }}
    {{- with .extraMounts }}
    {{- . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* Liveness, readiness and startup probes of an app service (API, workers) over HTTP. */}}
{{- define "chatapi.appProbes" -}}
startupProbe:
  httpGet:
    path: /health
    port: {{ .port }}
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 10
livenessProbe:
  httpGet:
    path: /health
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /health/ready
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 2
{{- end }}

{{/*
The schema gates every process that needs it: API and worker pods (and the admin bootstrap) start
with an init container that runs `chatapi migrate` (idempotent, under a PostgreSQL advisory lock,
so pods starting together wait for one another). No hook has to run first, so `helm install
--wait`, `helm upgrade --wait` and GitOps tools (Argo CD, Flux), which apply the manifests and wait
for them, find the API ready once the schema is current; during an upgrade the new pods migrate
and the old ones keep serving on the expanded schema. Call with the app container's context.
*/}}
{{- define "chatapi.migrateInitContainer" -}}
{{- $ctx := merge (dict "component" "migrate" "values" .root.Values.jobs) (omit . "component" "values" "instanceEnv" "ports" "probes" "extraMounts" "env") -}}
initContainers:
  {{- include "chatapi.appContainer" (merge (dict "args" (list "migrate") "env" (dict)) $ctx) | nindent 2 }}
{{- end }}

{{/*
The admin bootstrap Job: a Helm hook after install and after every upgrade (once the release's
pods are up; `--wait` waits for them first). It migrates in its init container too, so it also
works when Helm runs it without waiting. Failed Jobs stay for `kubectl logs`.
*/}}
{{- define "chatapi.hookJob" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $files := concat (include "chatapi.appSecretFiles" (dict "root" $root "component" .component) | fromYamlArray) (default (list) .extraFiles) -}}
{{- $ctx := dict "root" $root "component" .component "values" $v.jobs "version" (include "chatapi.appTag" $root) -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "chatapi.fullname" $root }}-{{ .component }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "chatapi.labels" $ctx | nindent 4 }}
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-weight: {{ .weight | quote }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 3
  activeDeadlineSeconds: 900
  template:
    metadata:
      labels:
        {{- include "chatapi.labels" $ctx | nindent 8 }}
      {{- with include "chatapi.podAnnotations" $ctx | trim }}{{ . | nindent 6 }}{{ end }}
    spec:
      {{- include "chatapi.podCommon" $ctx | nindent 6 }}
      {{- /* Docker's --init: the pause process is PID 1 and reaps zombies. */}}
      shareProcessNamespace: true
      restartPolicy: Never
      terminationGracePeriodSeconds: 30
      {{- include "chatapi.migrateInitContainer" (merge (dict "files" $files) $ctx) | nindent 6 }}
      containers:
        {{- include "chatapi.appContainer" (merge (dict "args" .args "env" (dict) "files" $files) $ctx) | nindent 8 }}
      volumes:
        {{- include "chatapi.appSecretsVolume" $files | trim | nindent 8 }}
        {{- include "chatapi.tmpfsVolume" (dict "path" "/tmp" "size" "64Mi") | nindent 8 }}
{{- end }}

{{- define "chatapi.apiLifecycle" -}}
lifecycle:
  preStop:
    exec:
      command:
        - sleep
        - "10"
{{- end }}
