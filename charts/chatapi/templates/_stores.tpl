{{/*
PostgreSQL, Redis and RabbitMQ in the release: one pod each (a StatefulSet) with its data on a
claim from volumeClaimTemplates that outlives the set (whenDeleted/whenScaled: Retain), reached
through a Service whose name is the host name in the connection URLs. Each starts directly as
the image's non-root user.
*/}}

{{/* The StatefulSet's fields before the pod template. Call with the store's context dict. */}}
{{- define "chatapi.storeSetSpec" -}}
replicas: 1
serviceName: {{ include "chatapi.storeServiceName" (dict "root" .root "store" .store "role" .component) }}
revisionHistoryLimit: 5
podManagementPolicy: OrderedReady
updateStrategy:
  type: RollingUpdate
persistentVolumeClaimRetentionPolicy:
  whenDeleted: Retain
  whenScaled: Retain
selector:
  matchLabels:
    {{- include "chatapi.selectorLabels" . | nindent 4 }}
{{- end }}

{{/* The data claim of a store: call with the store's context dict plus "dataVolume". */}}
{{- define "chatapi.storeClaim" -}}
- metadata:
    name: {{ .dataVolume }}
    labels:
      {{- include "chatapi.selectorLabels" . | nindent 6 }}
  spec:
    accessModes:
      - ReadWriteOnce
    {{- with .values.persistence.storageClass }}
    storageClassName: {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ .values.persistence.size }}
{{- end }}

{{/* The Service of a data store: call with the store's context dict plus "ports" (YAML). */}}
{{- define "chatapi.storeService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chatapi.storeServiceName" (dict "root" .root "store" .store "role" .component) }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "chatapi.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "chatapi.selectorLabels" . | nindent 4 }}
  ports:
    {{- .ports | nindent 4 }}
{{- end }}

{{/*
Startup, liveness and readiness probes running one exec check: (dict "command" (list ...)
"interval" 10 "timeout" 5 "retries" 6 "startPeriod" 30). The startup probe holds liveness off
for the start period and then the retries.
*/}}
{{- define "chatapi.execProbes" -}}
{{- $handler := printf "exec:\n  command:\n%s" (toYaml .command | indent 4) -}}
startupProbe:
  {{- $handler | nindent 2 }}
  periodSeconds: 5
  timeoutSeconds: {{ .timeout }}
  failureThreshold: {{ add (div (add .startPeriod 4) 5) (mul .retries 2) }}
livenessProbe:
  {{- $handler | nindent 2 }}
  periodSeconds: {{ .interval }}
  timeoutSeconds: {{ .timeout }}
  failureThreshold: {{ .retries }}
readinessProbe:
  {{- $handler | nindent 2 }}
  periodSeconds: {{ .interval }}
  timeoutSeconds: {{ .timeout }}
  failureThreshold: 2
{{- end }}
