{{/*
Names, labels and the pieces every workload shares. The objects mirror the toolkit's Pulumi
Kubernetes target (components/kubernetes/manifests): a parity test renders both and compares
them field by field, so a change here must be made there too (or the test says where).
*/}}

{{- define "chatapi.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-chatapi, or the release name alone when it already contains the chart name. */}}
{{- define "chatapi.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "chatapi.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select a component's pods (no version: stable across upgrades). */}}
{{- define "chatapi.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chatapi.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of an object: call with (dict "root" $ "component" "api" "version" "1.0.0"). */}}
{{- define "chatapi.labels" -}}
{{ include "chatapi.selectorLabels" . }}
app.kubernetes.io/part-of: chatapi
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "chatapi.chart" .root }}
{{- if .version }}
app.kubernetes.io/version: {{ .version | quote }}
{{- end }}
{{- end }}

{{- define "chatapi.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chatapi.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image tags: the app image defaults to the chart's appVersion. */}}
{{- define "chatapi.appTag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "chatapi.appImage" -}}
{{- printf "%s:%s" .Values.image.repository (include "chatapi.appTag" .) }}
{{- end }}

{{- define "chatapi.image" -}}
{{- printf "%s:%s" .repository .tag }}
{{- end }}

{{/* Secrets: the chart never creates them; these are the names it reads from. */}}
{{- define "chatapi.secretName" -}}
{{- $section := .section -}}
{{- if $section.existingSecret }}
{{- $section.existingSecret }}
{{- else if .root.Values.secrets.existingSecret }}
{{- .root.Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-secrets" (include "chatapi.fullname" .root) }}
{{- end }}
{{- end }}

{{- define "chatapi.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "chatapi.fullname" .)) .Values.tls.existingSecret }}
{{- end }}

{{/* Services of the data stores: their names are the host names in the connection URLs. */}}
{{- define "chatapi.storeServiceName" -}}
{{- $store := index .root.Values .store -}}
{{- default (printf "%s-%s" (include "chatapi.fullname" .root) .role) $store.service.name }}
{{- end }}

{{/* The HTTPS origin clients use: https://domain[:port]. */}}
{{- define "chatapi.origin" -}}
{{- $port := int .Values.nginx.service.httpsPort -}}
{{- if eq $port 443 }}
{{- printf "https://%s" .Values.domain }}
{{- else }}
{{- printf "https://%s:%d" .Values.domain $port }}
{{- end }}
{{- end }}

{{- define "chatapi.mailDomain" -}}
{{- if contains "." .Values.domain }}{{ .Values.domain }}{{ else }}example.com{{ end }}
{{- end }}

{{/*
Pod and container security contexts: the chart-wide restricted defaults with the component's
own settings (its uid/gid) merged over them.
*/}}
{{- define "chatapi.podSecurityContext" -}}
{{- toYaml (mustMergeOverwrite (deepCopy .root.Values.podSecurityContext) (deepCopy (default (dict) .values.podSecurityContext))) }}
{{- end }}

{{- define "chatapi.containerSecurityContext" -}}
{{- toYaml (mustMergeOverwrite (deepCopy .root.Values.containerSecurityContext) (deepCopy (default (dict) .values.containerSecurityContext))) }}
{{- end }}

{{/* The replicas a component runs with at least (the HPA minimum when autoscaled). */}}
{{- define "chatapi.minReplicas" -}}
{{- if and .autoscaling .autoscaling.enabled }}{{ int .autoscaling.minReplicas }}{{ else }}{{ int .replicaCount }}{{ end }}
{{- end }}

{{/*
Where a pod may run: nodeSelector, tolerations, affinity, and spread. Without
topologySpreadConstraints a replicated component spreads softly over nodes and zones
(pod-template-hash keeps a rollout's old and new pods from counting against each other).
Call with (dict "root" $ "values" .Values.api "component" "api" "replicated" true).
*/}}
{{- define "chatapi.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml .values.topologySpreadConstraints | nindent 2 }}
{{- else if and .replicated (ge (int (include "chatapi.minReplicas" .values)) 2) }}
topologySpreadConstraints:
{{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "chatapi.selectorLabels" $ | nindent 8 }}
    matchLabelKeys:
      - pod-template-hash
{{- end }}
{{- end }}
{{- end }}

{{/* The pod-level settings every workload shares (no workload talks to the Kubernetes API). */}}
{{- define "chatapi.podCommon" -}}
serviceAccountName: {{ include "chatapi.serviceAccountName" .root }}
automountServiceAccountToken: false
{{- /* Service links would put e.g. RABBITMQ_PORT=tcp://... into every container's env. */}}
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "chatapi.podSecurityContext" . | nindent 2 }}
{{- include "chatapi.scheduling" . }}
{{- end }}

{{/* Pod annotations: Prometheus scraping (metrics.enabled), metrics.annotations, podAnnotations. */}}
{{- define "chatapi.podAnnotations" -}}
{{- $annotations := dict -}}
{{- if and .metricsPort .root.Values.metrics.enabled }}
{{- $_ := set $annotations "prometheus.io/scrape" "true" }}
{{- $_ := set $annotations "prometheus.io/port" (toString .metricsPort) }}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" }}
{{- $annotations = mustMergeOverwrite $annotations (deepCopy .root.Values.metrics.annotations) }}
{{- end }}
{{- with .extra }}{{ $annotations = mustMergeOverwrite $annotations (deepCopy .) }}{{ end }}
{{- $annotations = mustMergeOverwrite $annotations (deepCopy (default (dict) .values.podAnnotations)) }}
{{- if $annotations }}
annotations:
  {{- toYaml $annotations | nindent 2 }}
{{- end }}
{{- end }}

{{/* A writable in-memory folder for a read-only root filesystem. */}}
{{- define "chatapi.tmpfsVolume" -}}
- name: tmp-{{ regexReplaceAll "[^A-Za-z0-9]+" (trimPrefix "/" .path) "-" }}
  emptyDir:
    medium: Memory
    sizeLimit: {{ .size }}
{{- end }}

{{- define "chatapi.tmpfsMount" -}}
- name: tmp-{{ regexReplaceAll "[^A-Za-z0-9]+" (trimPrefix "/" .path) "-" }}
  mountPath: {{ .path }}
{{- end }}

{{/*
Secret files under /run/secrets: one projected volume (mode 0440, group = the pod's fsGroup),
one source per Secret listing only the keys this workload needs, in the order given.
Call with a list of (dict "secret" <Secret name> "key" <key> "path" <file name>).
*/}}
{{- define "chatapi.secretsVolume" -}}
{{- $order := list -}}
{{- $groups := dict -}}
{{- range . }}
{{- if not (hasKey $groups .secret) }}
{{- $order = append $order .secret }}
{{- $_ := set $groups .secret list }}
{{- end }}
{{- $_ := set $groups .secret (append (get $groups .secret) (dict "key" .key "path" .path)) }}
{{- end }}
- name: secrets
  projected:
    defaultMode: 288
    sources:
    {{- range $order }}
      - secret:
          name: {{ . }}
          items:
            {{- toYaml (get $groups .) | nindent 12 }}
    {{- end }}
{{- end }}

{{- define "chatapi.secretsMount" -}}
- name: secrets
  mountPath: /run/secrets
  readOnly: true
{{- end }}
