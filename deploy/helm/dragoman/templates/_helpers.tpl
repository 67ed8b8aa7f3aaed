{{- define "dragoman.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{- define "dragoman.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dragoman.labels" -}}
app.kubernetes.io/name: {{ include "dragoman.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "dragoman.selector" -}}
app.kubernetes.io/name: {{ include "dragoman.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dragoman.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* A secret field: "<field>From: key" becomes "<field>_file = /etc/dragoman/secrets/key". */}}
{{- define "dragoman.withSecretFiles" -}}
{{- $out := dict -}}
{{- range $k, $v := . -}}
{{- if eq $k "secretKeyFrom" -}}{{- $_ := set $out "secret_key_file" (printf "/etc/dragoman/secrets/%s" $v) -}}
{{- else if eq $k "passwordFrom" -}}{{- $_ := set $out "password_file" (printf "/etc/dragoman/secrets/%s" $v) -}}
{{- else if eq $k "tokenFrom" -}}{{- $_ := set $out "token_file" (printf "/etc/dragoman/secrets/%s" $v) -}}
{{- else -}}{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Helm reads every YAML number as a float, and toToml would write 20 as 20.0, which
     dragoman's integer settings refuse: whole numbers become integers, in place. */}}
{{- define "dragoman.intify" -}}
{{- if kindIs "map" . -}}
{{- range $k, $v := . -}}
{{- if and (kindIs "float64" $v) (eq (float64 (int64 $v)) $v) -}}
{{- $_ := set $ $k (int64 $v) -}}
{{- else -}}
{{- include "dragoman.intify" $v -}}
{{- end -}}
{{- end -}}
{{- else if kindIs "slice" . -}}
{{- range . -}}
{{- include "dragoman.intify" . -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The whole dragoman.toml. */}}
{{- define "dragoman.config" -}}
{{- $cfg := deepCopy .Values.config -}}
{{- $server := default dict (get $cfg "server") -}}
{{- $_ := set $server "listen" (printf "0.0.0.0:%v" .Values.ports.gateway) -}}
{{- if eq .Values.mode "sidecar" -}}{{- $_ := set $server "listen" (printf "127.0.0.1:%v" .Values.ports.gateway) -}}{{- end -}}
{{- $_ := set $cfg "server" $server -}}
{{- $_ := set $cfg "admin" (dict "listen" (printf "0.0.0.0:%v" .Values.ports.admin)) -}}
{{- $_ := set $cfg "store" (dict "data_dir" "/var/lib/dragoman") -}}
{{- if .Values.qumuloTokenKeyFrom -}}
{{- $q := default dict (get $cfg "qumulo") -}}
{{- $_ := set $q "token_key_file" (printf "/etc/dragoman/secrets/%s" .Values.qumuloTokenKeyFrom) -}}
{{- $_ := set $cfg "qumulo" $q -}}
{{- end -}}
{{- $backends := dict -}}
{{- range $name, $b := .Values.backends -}}
{{- $_ := set $backends $name (include "dragoman.withSecretFiles" $b | fromJson) -}}
{{- end -}}
{{- if $backends -}}{{- $_ := set $cfg "backends" $backends -}}{{- end -}}
{{- if .Values.routes -}}{{- $_ := set $cfg "routes" .Values.routes -}}{{- end -}}
{{- $creds := list -}}
{{- range .Values.credentials -}}
{{- $creds = append $creds (include "dragoman.withSecretFiles" . | fromJson) -}}
{{- end -}}
{{- if $creds -}}{{- $_ := set $cfg "credentials" $creds -}}{{- end -}}
{{- include "dragoman.intify" $cfg -}}
{{- toToml $cfg -}}
{{- end -}}

{{/* The dragoman container: the Deployment's, or a parent chart's sidecar. */}}
{{- define "dragoman.container" -}}
name: dragoman
image: {{ include "dragoman.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
args: ["serve"]
env:
  - name: DRAGOMAN_CONFIG
    value: /etc/dragoman/dragoman.toml
ports:
  - name: gateway
    containerPort: {{ .Values.ports.gateway }}
  - name: admin
    containerPort: {{ .Values.ports.admin }}
readinessProbe:
  httpGet:
    path: /readyz
    port: admin
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  httpGet:
    path: /healthz
    port: admin
  periodSeconds: 10
  failureThreshold: 3
resources:
  {{- toYaml .Values.resources | nindent 2 }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  capabilities:
    drop: ["ALL"]
volumeMounts:
  - name: dragoman-config
    mountPath: /etc/dragoman/dragoman.toml
    subPath: dragoman.toml
    readOnly: true
  {{- if .Values.existingSecret }}
  - name: dragoman-secrets
    mountPath: /etc/dragoman/secrets
    readOnly: true
  {{- end }}
  - name: dragoman-data
    mountPath: /var/lib/dragoman
{{- end -}}

{{- define "dragoman.volumes" -}}
- name: dragoman-config
  configMap:
    name: {{ include "dragoman.fullname" . }}
{{- if .Values.existingSecret }}
- name: dragoman-secrets
  secret:
    secretName: {{ .Values.existingSecret }}
    defaultMode: 0440
{{- end }}
- name: dragoman-data
  emptyDir:
    sizeLimit: 256Mi
{{- end -}}

{{/* For a parent chart: dragoman as a native sidecar (an init container that keeps running).
     Put it under the pod's initContainers and include "dragoman.volumes" in its volumes. */}}
{{- define "dragoman.sidecar" -}}
{{ include "dragoman.container" . }}
restartPolicy: Always
startupProbe:
  httpGet:
    path: /readyz
    port: admin
  periodSeconds: 1
  failureThreshold: 30
{{- end -}}
