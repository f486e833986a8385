{{/*
Names. Role suffixes ("-ingress", "-bridgehead", "-admin") are appended to the
full name, so it is cut to 52 characters to keep each object name under 63.
*/}}
{{- define "mailbus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" }}
{{- end }}

{{- define "mailbus.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mailbus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels shared by every object. The selector labels (name, instance, component)
are written out in each template so that selectors can be read there.
*/}}
{{- define "mailbus.labels" -}}
helm.sh/chart: {{ include "mailbus.chart" . }}
app.kubernetes.io/part-of: mailbus
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mailbus.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding MAILBUS_REDIS_URL. */}}
{{- define "mailbus.redisSecretName" -}}
{{- default (include "mailbus.fullname" .) .Values.redis.existingSecret }}
{{- end }}

{{- define "mailbus.redisSecretKey" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}

{{/* The Secret holding the admin token. */}}
{{- define "mailbus.adminTokenSecretName" -}}
{{- default (include "mailbus.fullname" .) .Values.adminToken.existingSecret }}
{{- end }}

{{- define "mailbus.adminTokenSecretKey" -}}
{{- if .Values.adminToken.existingSecret }}{{ .Values.adminToken.existingSecretKey }}{{ else }}admin-token{{ end }}
{{- end }}

{{/*
Fails the render when no Redis is configured: without one `mailbus start` would
start a private redis-server inside each pod, and the pods would share nothing.
*/}}
{{- define "mailbus.requireRedis" -}}
{{- $cfg := .Values.config }}
{{- if not (or .Values.redis.url .Values.redis.existingSecret (dig "redis" "url" "" $cfg) (dig "redis" "sentinel" "" $cfg) (dig "redis" "cluster" "" $cfg)) }}
{{- fail "mailbus: set redis.url, redis.existingSecret, or config.redis (url, sentinel or cluster): every replica must share one Redis" }}
{{- end }}
{{- end }}

{{/*
Environment of every mailbus container. Call with
(dict "root" $ "role" "ingress").
*/}}
{{- define "mailbus.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if or .root.Values.redis.url .root.Values.redis.existingSecret }}
- name: MAILBUS_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "mailbus.redisSecretName" .root }}
      key: {{ include "mailbus.redisSecretKey" .root }}
{{- end }}
- name: {{ .root.Values.adminToken.envName }}
  valueFrom:
    secretKeyRef:
      name: {{ include "mailbus.adminTokenSecretName" .root }}
      key: {{ include "mailbus.adminTokenSecretKey" .root }}
{{- range $name, $_ := .root.Values.connectorPasswords }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "mailbus.fullname" $.root }}
      key: {{ printf "password-%s" $name | quote }}
{{- end }}
{{- if .root.Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .root.Values.otel.endpoint | quote }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "mailbus-%s" .role | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.instance.id=$(POD_NAME),k8s.pod.name=$(POD_NAME),k8s.namespace.name=%s" .root.Release.Namespace | quote }}
{{- with .root.Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volume mounts of every mailbus container. */}}
{{- define "mailbus.volumeMounts" -}}
- name: config
  mountPath: /etc/mailbus/mailbus.yaml
  subPath: mailbus.yaml
  readOnly: true
- name: protocol-log
  mountPath: {{ .Values.protocolLog.mountPath }}
- name: tmp
  mountPath: /tmp
{{- if .Values.tls.secretName }}
- name: tls
  mountPath: {{ .Values.tls.mountPath }}
  readOnly: true
{{- end }}
{{- if .Values.secretFiles }}
- name: secret-files
  mountPath: /etc/mailbus/secrets
  readOnly: true
{{- end }}
{{- end }}

{{/* Volumes of every mailbus pod. */}}
{{- define "mailbus.volumes" -}}
- name: config
  configMap:
    name: {{ include "mailbus.fullname" . }}
- name: protocol-log
  {{- toYaml .Values.protocolLog.volume | nindent 2 }}
- name: tmp
  emptyDir: {}
{{- if .Values.tls.secretName }}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
{{- end }}
{{- if .Values.secretFiles }}
- name: secret-files
  secret:
    secretName: {{ include "mailbus.fullname" . }}
    items:
      {{- range $file, $_ := .Values.secretFiles }}
      - key: {{ printf "file-%s" $file | quote }}
        path: {{ $file | quote }}
      {{- end }}
{{- end }}
{{- end }}

{{/*
Pod annotations besides the checksums (which each Deployment writes itself):
Prometheus scrape hints and podAnnotations.
*/}}
{{- define "mailbus.podAnnotations" -}}
{{- if .Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.adminPort | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Checksum of everything the chart puts in its Secret, so pods restart when a
password or the token changes (the generated token is not in values and
never changes).
*/}}
{{- define "mailbus.secretChecksum" -}}
{{- list .Values.redis .Values.adminToken .Values.connectorPasswords .Values.secretFiles | toJson | sha256sum }}
{{- end }}
