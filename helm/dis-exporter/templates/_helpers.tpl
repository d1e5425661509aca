{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "dis-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the resources: fullnameOverride, else "<release>-<chart>", or the release name alone when it
already contains the chart name. 52 characters at most, so that StatefulSet pod names (<name>-<ordinal>)
and their controller-revision-hash label (<name>-<hash>, 63 at most) stay valid.
*/}}
{{- define "dis-exporter.fullname" -}}
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

{{- define "dis-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels the chart itself puts on every resource. */}}
{{- define "dis-exporter.ownLabels" -}}
helm.sh/chart: {{ include "dis-exporter.chart" . }}
{{ include "dis-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ include "dis-exporter.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of every resource: the chart's own, then commonLabels. */}}
{{- define "dis-exporter.labels" -}}
{{- include "dis-exporter.labelsWith" (dict "root" .) }}
{{- end }}

{{/*
Labels of one resource: the chart's own and `fixed` (what the chart sets on this resource alone, e.g. a Service's
component), then commonLabels, then `user`, the resource's own labels value named `from` (e.g. podLabels), which wins
over commonLabels. Neither may set a label of the chart's: the selector labels tie the Services and the workload to
the pods, and written after the chart's, a key would appear twice (Kubernetes keeps one of them without a word).
*/}}
{{- define "dis-exporter.labelsWith" -}}
{{- $chart := merge (fromYaml (include "dis-exporter.ownLabels" .root)) (.fixed | default dict) }}
{{- $labels := dict }}
{{- range $source := list (dict "name" "commonLabels" "labels" .root.Values.commonLabels) (dict "name" .from "labels" .user) }}
{{- range $key, $value := $source.labels | default dict }}
{{- if hasKey $chart $key }}
{{- fail (printf "%s.%s: the chart sets this label itself; choose another name" $source.name $key) }}
{{- end }}
{{- $_ := set $labels $key (toString $value) }}
{{- end }}
{{- end }}
{{- toYaml (merge $labels $chart) }}
{{- end }}

{{/* Labels that select the pods. */}}
{{- define "dis-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dis-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dis-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dis-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dis-exporter.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The container image: [registry/]repository, then @digest when one is given (it names the exact image, so it wins
over the tag), else :tag.
*/}}
{{- define "dis-exporter.image" -}}
{{- $image := .Values.image.repository }}
{{- with .Values.image.registry }}
{{- $image = printf "%s/%s" . $image }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $image .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $image (include "dis-exporter.imageTag" .) }}
{{- end }}
{{- end }}

{{/*
Fails when the exporter would refuse to start for want of a project id or of targets, naming what to set. Either may
also come from the environment (HUAWEICLOUD_SDK_PROJECT_ID, DIS_TARGETS in extraEnv), and the whole configuration
from an existing ConfigMap or Secret (envFrom, or a --config file in extraArgs): the chart cannot look inside
those, so it leaves the check to the exporter. config.projects (several projects, each with its own project id and
targets) stands in for both, and cannot be combined with them; the exporter checks each entry.
*/}}
{{- define "dis-exporter.checkRequired" -}}
{{- $config := .Values.config | default dict }}
{{- $env := list }}
{{- range .Values.extraEnv }}{{ $env = append $env .name }}{{ end }}
{{- $ownConfig := false }}
{{- range .Values.extraArgs }}
{{- if or (eq (toString .) "--config") (hasPrefix "--config=" (toString .)) }}{{ $ownConfig = true }}{{ end }}
{{- end }}
{{- if get $config "projects" }}
{{- $single := list }}
{{- if dig "dis" "projectId" "" $config }}{{ $single = append $single "config.dis.projectId" }}{{ end }}
{{- if get $config "targets" }}{{ $single = append $single "config.targets" }}{{ end }}
{{- with $single }}
{{- fail (printf "config.projects cannot be used together with %s: list every project under config.projects, or poll one with config.dis.projectId and config.targets" (join " and " .)) }}
{{- end }}
{{- else if not (or .Values.envFrom $ownConfig (has "DIS_EXPORTER_CONFIG" $env) (has "DIS_PROJECTS" $env)) }}
{{- $problems := list }}
{{- if not (or (dig "dis" "projectId" "" $config) (has "HUAWEICLOUD_SDK_PROJECT_ID" $env)) }}
{{- $problems = append $problems "config.dis.projectId is empty: set it to the project of your streams (--set config.dis.projectId=...)" }}
{{- end }}
{{- if not (or (get $config "targets") (has "DIS_TARGETS" $env)) }}
{{- $problems = append $problems "config.targets is empty: list the dump tasks to poll, e.g. --set-json 'config.targets=[{\"stream\":\"orders\",\"task\":\"*\"}]'" }}
{{- end }}
{{- with $problems }}
{{- fail (printf "the exporter refuses to start without a project id and targets (or config.projects):\n- %s" (join "\n- " .)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The headless Service that gives the StatefulSet's pods their identity (shards > 1). */}}
{{- define "dis-exporter.headlessServiceName" -}}
{{- printf "%s-headless" (include "dis-exporter.fullname" .) }}
{{- end }}

{{/* HTTP port of the exporter: config.server.port, else its default 9873. */}}
{{- define "dis-exporter.port" -}}
{{- dig "server" "port" 9873 (.Values.config | default dict) | int }}
{{- end }}

{{/* Where the pods see the mounted config and credential files. */}}
{{- define "dis-exporter.configDir" -}}/etc/dis-exporter{{- end }}

{{/*
Whether the exporter logs in as an IAM user (config.auth.iam set) rather than signing with an AK/SK: "true" or "".
*/}}
{{- define "dis-exporter.iam" -}}
{{- $auth := (.Values.config | default dict).auth | default dict }}
{{- if $auth.iam }}true{{ end }}
{{- end }}

{{/*
The Secret holding the credentials (the AK/SK, or the IAM password with config.auth.iam): existingSecret wins
over credentials; "" when there is none. The chart's own Secret needs both halves of an AK/SK, so one without
the other is an error rather than a half-mounted pair, and so is an AK/SK next to IAM.
*/}}
{{- define "dis-exporter.secretName" -}}
{{- $c := .Values.credentials }}
{{- if .Values.workloadIdentity.enabled }}
{{- if or $c.accessKey $c.secretKey $c.iamPassword .Values.existingSecret }}
{{- fail "workloadIdentity.enabled and credentials/existingSecret: choose one way to authenticate" }}
{{- end }}
{{- else if include "dis-exporter.iam" . }}
{{- if or $c.accessKey $c.secretKey }}
{{- fail "credentials.accessKey/secretKey and config.auth.iam: choose one way to authenticate" }}
{{- end }}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if $c.iamPassword }}
{{- include "dis-exporter.fullname" . }}
{{- end }}
{{- else }}
{{- if $c.iamPassword }}
{{- fail "credentials.iamPassword needs config.auth.iam (endpoint, domain, username)" }}
{{- end }}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if or $c.accessKey $c.secretKey }}
{{- if not (and $c.accessKey $c.secretKey) }}
{{- fail "credentials: set both credentials.accessKey and credentials.secretKey (or existingSecret)" }}
{{- end }}
{{- include "dis-exporter.fullname" . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The exporter's config file: values.config with the chart's own settings merged in. Inline credentials are
refused, as a ConfigMap is no place for them; the mounted key files are wired to auth.*File, and the projected
service-account token to auth.oidc.idTokenFile with workloadIdentity (the top-level one when a project uses it, and
each project's own auth.oidc); with shards > 1,
every StatefulSet pod takes its shard index from its name (HOSTNAME, e.g. dis-exporter-2).
*/}}
{{- define "dis-exporter.config" -}}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- $auth := get $config "auth" | default dict }}
{{- range $key := list "accessKey" "secretKey" "securityToken" }}
{{- if get $auth $key }}
{{- fail (printf "config.auth.%s: credentials do not belong in the ConfigMap; use credentials.accessKey/secretKey or existingSecret, which the chart mounts as files" $key) }}
{{- end }}
{{- end }}
{{- if (get $auth "iam" | default dict).password }}
{{- fail "config.auth.iam.password: credentials do not belong in the ConfigMap; use credentials.iamPassword or existingSecret, which the chart mounts as a file" }}
{{- end }}
{{- if .Values.workloadIdentity.enabled }}
{{- $tokenPath := .Values.workloadIdentity.tokenPath }}
{{- /* The top-level auth is used unless every one of config.projects has an auth of its own. */}}
{{- $projects := get $config "projects" | default list }}
{{- $topLevelUsed := not $projects }}
{{- range $projects }}
{{- $own := get . "auth" | default dict }}
{{- if not $own }}{{ $topLevelUsed = true }}{{ end }}
{{- /* A project's own auth.oidc reads the same projected token. */}}
{{- with get $own "oidc" }}{{ $_ := set . "idTokenFile" $tokenPath }}{{ end }}
{{- end }}
{{- $problems := list }}
{{- if not .Values.workloadIdentity.audience }}
{{- $problems = append $problems "workloadIdentity.audience is empty: set it to the Client ID of the IAM identity provider" }}
{{- end }}
{{- if $topLevelUsed }}
{{- $oidc := deepCopy (get $auth "oidc" | default dict) }}
{{- if not (get $oidc "endpoint") }}
{{- $problems = append $problems "config.auth.oidc.endpoint is empty: set it to the IAM endpoint, e.g. https://iam.cn-north-4.myhuaweicloud.com" }}
{{- end }}
{{- if not (get $oidc "idpId") }}
{{- $problems = append $problems "config.auth.oidc.idpId is empty: set it to the ID of the IAM identity provider" }}
{{- end }}
{{- $_ := set $oidc "idTokenFile" $tokenPath }}
{{- $_ := set $auth "oidc" $oidc }}
{{- end }}
{{- with $problems }}
{{- fail (printf "workloadIdentity.enabled needs:\n- %s" (join "\n- " .)) }}
{{- end }}
{{- end }}
{{- if include "dis-exporter.secretName" . }}
{{- $dir := printf "%s/secrets" (include "dis-exporter.configDir" .) }}
{{- if include "dis-exporter.iam" . }}
{{- $iam := deepCopy (get $auth "iam") }}
{{- $_ := set $iam "passwordFile" (printf "%s/iamPassword" $dir) }}
{{- $_ := set $auth "iam" $iam }}
{{- else }}
{{- $_ := set $auth "accessKeyFile" (printf "%s/accessKey" $dir) }}
{{- $_ := set $auth "secretKeyFile" (printf "%s/secretKey" $dir) }}
{{- end }}
{{- end }}
{{- if $auth }}
{{- $_ := set $config "auth" $auth }}
{{- end }}
{{- if gt (int .Values.shards) 1 }}
{{- $shard := get $config "shard" | default dict }}
{{- $_ := set $shard "total" (int .Values.shards) }}
{{- $_ := set $shard "index" 0 }}
{{- $_ := set $shard "fromHostname" true }}
{{- $_ := set $config "shard" $shard }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* The Secret holding the web config; "" when values.webConfig is empty. */}}
{{- define "dis-exporter.webConfigSecretName" -}}
{{- if .Values.webConfig }}
{{- printf "%s-web-config" (include "dis-exporter.fullname" .) }}
{{- end }}
{{- end }}

{{/* "https" when the web config turns TLS on, else "http". */}}
{{- define "dis-exporter.scheme" -}}
{{- if dig "tls_server_config" dict (.Values.webConfig | default dict) }}https{{ else }}http{{ end }}
{{- end }}

{{/*
A probe of `path`: an HTTP(S) GET, or a TCP check when every client must show a certificate (the kubelet has none).
*/}}
{{- define "dis-exporter.probe" -}}
{{- $tls := dig "tls_server_config" dict (.root.Values.webConfig | default dict) }}
{{- if has (get $tls "client_auth_type") (list "RequireAnyClientCert" "RequireAndVerifyClientCert" "RequireClientCert") }}
tcpSocket:
  port: http
{{- else }}
httpGet:
  path: {{ .path }}
  port: http
  {{- if $tls }}
  scheme: HTTPS
  {{- end }}
{{- end }}
{{- end }}

{{/* The pod template shared by the Deployment (shards = 1) and the StatefulSet (shards > 1). */}}
{{/*
The V8 heap cap in MB: nodeHeapMB when set (0: none), else 50% of resources.limits.memory when it is written in
Mi, Gi, M or G, else none. Without a cap V8 sizes its heap from the node's memory, not the container's limit, and lets it
grow to several times the live set between collections: a large fleet would be OOM-killed at the limit. Half, not
more: on Node 24 the rest of the process (code, young generation, the buffers of scrapes and gzip) takes 100-130 MB.
*/}}
{{- define "dis-exporter.heapMB" -}}
{{- $explicit := toString .Values.nodeHeapMB -}}
{{- $limit := "" -}}
{{- with .Values.resources }}{{ with .limits }}{{ $limit = toString (.memory | default "") }}{{ end }}{{ end -}}
{{- if ne $explicit "" -}}
{{- if ne $explicit "0" }}{{ $explicit }}{{ end -}}
{{- else if regexMatch "^[0-9]+Mi$" $limit -}}
{{- div (mul (trimSuffix "Mi" $limit | atoi) 50) 100 -}}
{{- else if regexMatch "^[0-9]+Gi$" $limit -}}
{{- div (mul (trimSuffix "Gi" $limit | atoi) 1024 50) 100 -}}
{{- else if regexMatch "^[0-9]+M$" $limit -}}
{{- div (mul (trimSuffix "M" $limit | atoi) 50 1000000) (mul 100 1048576) -}}
{{- else if regexMatch "^[0-9]+G$" $limit -}}
{{- div (mul (trimSuffix "G" $limit | atoi) 50 1000000000) (mul 100 1048576) -}}
{{- end -}}
{{- end }}

{{- define "dis-exporter.podTemplate" -}}
{{- $secretName := include "dis-exporter.secretName" . -}}
metadata:
  annotations:
    checksum/config: {{ include "dis-exporter.config" . | sha256sum }}
    {{- if .Values.webConfig }}
    checksum/web-config: {{ toYaml .Values.webConfig | sha256sum }}
    {{- end }}
    {{- if and $secretName (not .Values.existingSecret) }}
    checksum/secret: {{ printf "%s\n%s\n%s" .Values.credentials.accessKey .Values.credentials.secretKey (.Values.credentials.iamPassword | default "") | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "dis-exporter.labelsWith" (dict "root" . "user" .Values.podLabels "from" "podLabels") | nindent 4 }}
spec:
  serviceAccountName: {{ include "dis-exporter.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
  # Service links would set DIS_EXPORTER_PORT=tcp://... for a Service named dis-exporter, and the exporter
  # reads DIS_EXPORTER_PORT as its listen port.
  enableServiceLinks: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.initContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: dis-exporter
      image: {{ include "dis-exporter.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      {{- if or .Values.webConfig .Values.extraArgs }}
      args:
        {{- if .Values.webConfig }}
        - --web.config.file
        - {{ include "dis-exporter.configDir" . }}/web.yml
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      {{- end }}
      env:
        - name: DIS_EXPORTER_CONFIG
          value: {{ include "dis-exporter.configDir" . }}/config.yaml
        {{- with include "dis-exporter.heapMB" . }}
        - name: NODE_OPTIONS
          value: --max-old-space-size={{ . }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.envFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        - name: http
          containerPort: {{ include "dis-exporter.port" . }}
          protocol: TCP
      livenessProbe:
        {{- include "dis-exporter.probe" (dict "root" . "path" "/-/healthy") | trim | nindent 8 }}
        {{- with .Values.livenessProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      readinessProbe:
        {{- include "dis-exporter.probe" (dict "root" . "path" "/-/ready") | trim | nindent 8 }}
        {{- with .Values.readinessProbe }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: {{ include "dis-exporter.configDir" . }}
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- if .Values.workloadIdentity.enabled }}
        - name: oidc-token
          mountPath: {{ dir .Values.workloadIdentity.tokenPath }}
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    {{- with .Values.extraContainers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  volumes:
    # One projected volume: config.yaml and secrets/{accessKey,secretKey} in one directory, no nested mounts,
    # and Secret updates reach the files (no subPath).
    - name: config
      projected:
        defaultMode: 288 # 0440: owner root, group fsGroup
        sources:
          - configMap:
              name: {{ include "dis-exporter.fullname" . }}
              items:
                - key: config.yaml
                  path: config.yaml
          {{- if $secretName }}
          {{- $keys := ternary .Values.existingSecretKeys (dict "accessKey" "accessKey" "secretKey" "secretKey" "iamPassword" "iamPassword") (ne .Values.existingSecret "") }}
          - secret:
              name: {{ $secretName }}
              items:
                {{- if include "dis-exporter.iam" . }}
                - key: {{ $keys.iamPassword | default "iamPassword" | quote }}
                  path: secrets/iamPassword
                {{- else }}
                - key: {{ $keys.accessKey | quote }}
                  path: secrets/accessKey
                - key: {{ $keys.secretKey | quote }}
                  path: secrets/secretKey
                {{- end }}
          {{- end }}
          {{- with include "dis-exporter.webConfigSecretName" . }}
          - secret:
              name: {{ . }}
              items:
                - key: web.yml
                  path: web.yml
          {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- with .Values.workloadIdentity }}
    {{- if .enabled }}
    # The kubelet writes a token for the identity provider (its audience) and replaces it before it expires.
    - name: oidc-token
      projected:
        defaultMode: 288 # 0440: owner root, group fsGroup
        sources:
          - serviceAccountToken:
              audience: {{ .audience | quote }}
              expirationSeconds: {{ int .expirationSeconds }}
              path: {{ base .tokenPath }}
    {{- end }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
