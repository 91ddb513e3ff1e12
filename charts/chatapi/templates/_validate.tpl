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
