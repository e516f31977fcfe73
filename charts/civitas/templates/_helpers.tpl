{{- define "civitas.labels" -}}
app.kubernetes.io/part-of: civitas
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* A service's image: used as given when it names a tag or digest (skaffold sets such), else registry/name:tag. */}}
{{- define "civitas.image" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
{{- if or (contains ":" $svc.image) (contains "@" $svc.image) -}}{{ $svc.image }}
{{- else -}}{{- if $root.Values.image.registry -}}{{ $root.Values.image.registry }}/{{- end -}}{{ $svc.image }}:{{ $root.Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* Every service's CIVITAS_HOME; the site key is mounted inside it. */}}
{{- define "civitas.home" -}}/var/lib/civitas{{- end -}}

{{/* A service's in-cluster address: http://RELEASE-NAME:PORT. */}}
{{- define "civitas.url" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
http://{{ include "civitas.releaseOf" (list $root $name) }}-{{ $name }}:{{ (index $root.Values.services $name).port }}
{{- end -}}

{{/* The services each one calls over HTTP (CIVITAS_<NAME>_URL). */}}
{{- define "civitas.calls" -}}
gateway: [registry, polls, counter, deployer, drafts, sync]  # sync: the network page
registry: [counter, drafts]  # drafts: a move marks the voter's memberships there
polls: [counter]
counter: [registry, polls, sync]  # sync: the origins it holds (services.counter.origins via sync)
deployer: [counter, gateway]  # the gateway: where its smoke requests go (CIVITAS_GATEWAY_URL)
{{- end -}}

{{/* How a service mounts the shared releases volume: "write" (the deployer), "read" (those that read the live release:
the gateway's pages, the polls service's poll files, the registry's and the counter's rules and registrars), or ""
(none; also when no deployer runs, so there are no releases). */}}
{{- define "civitas.releasesMount" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- if $root.Values.services.deployer.enabled -}}
{{- if eq $name "deployer" -}}write{{- else if has $name (list "gateway" "registry" "polls" "counter") -}}read{{- end -}}
{{- end -}}
{{- end -}}

{{/* How a service mounts the origins' signed list rules (CIVITAS_HOME/sync/rules): "write" (the sync service, which
keeps them as they arrive with its peers' heads), "read" (the counter, which compiles each list@SITE by them), or ""
(none; also when no sync service runs). */}}
{{- define "civitas.networkRulesMount" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- if $root.Values.services.sync.enabled -}}
{{- if eq $name "sync" -}}write{{- else if eq $name "counter" -}}read{{- end -}}
{{- end -}}
{{- end -}}

{{/* The variable each service's database (key SERVICE-url of the database secret) goes into. */}}
{{- define "civitas.databases" -}}
registry: CIVITAS_LOG_URL
polls: CIVITAS_LOG_URL
counter: CIVITAS_LOG_URL
deployer: CIVITAS_LOG_URL
gateway: CIVITAS_AUTH_STORE_URL
drafts: CIVITAS_LOG_URL
sync: CIVITAS_LOG_URL
{{- end -}}

{{/* A service's environment: what `python -m civitas_NAME` reads (its settings.py; civitas_kernel/service/settings.py). */}}
{{- define "civitas.env" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}{{- $svc := index . 2 -}}
{{- $home := include "civitas.home" $root -}}
- {name: CIVITAS_SITE, value: {{ $root.Values.site | quote }}}
- {name: CIVITAS_HOME, value: {{ $home }}}
- {name: CIVITAS_HOST, value: "0.0.0.0"}  # the pod's address, where probes and the Service reach it
- {name: CIVITAS_KEY_FILE, value: {{ $home }}/site-key.pem}
{{- if include "civitas.releasesMount" (list $root $name) }}
- {name: CIVITAS_RELEASES, value: {{ $root.Values.releases.mountPath | quote }}}  # the shared releases volume
{{- end }}
{{- with get (include "civitas.databases" $root | fromYaml) $name }}
- name: {{ . }}
  valueFrom: {secretKeyRef: {name: {{ $root.Values.secrets.database }}, key: {{ $name }}-url}}
{{- end }}
{{- range get (include "civitas.calls" $root | fromYaml) $name | default (list) }}
{{- if (index $root.Values.services .).enabled }}
- {name: CIVITAS_{{ upper . }}_URL, value: {{ include "civitas.url" (list $root .) | quote }}}
{{- else }}
- {name: CIVITAS_{{ upper . }}_URL, value: ""}  # not deployed: the gateway neither waits for it nor lists its streams
{{- end }}
{{- end }}
- name: CIVITAS_OPERATOR_TOKEN
  valueFrom: {secretKeyRef: {name: {{ $root.Values.secrets.operator }}, key: token}}
- {name: CIVITAS_KAFKA_BOOTSTRAP_SERVERS, value: {{ $root.Values.kafka.bootstrapServers | quote }}}
- {name: CIVITAS_KAFKA_TOPIC_TEMPLATE, value: {{ $root.Values.kafka.topicTemplate | quote }}}
{{- if and (eq $name "deployer") $root.Values.secrets.mirrors }}
- name: CIVITAS_MIRROR_URLS  # the deployer's alone: no other pod, and no release it runs, sees it
  valueFrom: {secretKeyRef: {name: {{ $root.Values.secrets.mirrors }}, key: urls}}
{{- end }}
{{- if and (eq $name "deployer") (eq (include "civitas.part" $root) "deployer") }}
{{ include "civitas.gitopsEnv" $root }}
{{- end }}
{{- if eq $name "counter" }}
{{- $mirror := list }}{{- $synced := list }}
{{- range $svc.origins | default list }}
{{- if eq (.via | default "sync") "mirror" }}{{- $mirror = append $mirror .site }}{{- else }}{{- $synced = append $synced .site }}{{- end }}
{{- end }}
{{- with $mirror }}
- {name: CIVITAS_COUNTER_ORIGINS, value: {{ join "," . | quote }}}  # read from MirrorMaker 2's topics here
{{- end }}
{{- with $synced }}
- {name: CIVITAS_COUNTER_SYNCED_ORIGINS, value: {{ join "," . | quote }}}  # read from the sync service's pages
{{- end }}
{{- end }}
{{- if and (eq $name "sync") $root.Values.mirrorMaker.enabled $root.Values.mirrorMaker.sources }}
{{- $sites := list }}{{- range $root.Values.mirrorMaker.sources }}{{- $sites = append $sites .site }}{{- end }}
- {name: CIVITAS_SYNC_MIRRORED, value: {{ join "," $sites | quote }}}  # the peers MirrorMaker 2 carries here
{{- end }}
{{- if eq $name "gateway" }}
- {name: CIVITAS_WORKERS, value: {{ $svc.workers | default 1 | quote }}}
{{- end }}
{{- if $root.Values.otel.endpoint }}
- {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ $root.Values.otel.endpoint | quote }}}
- {name: OTEL_SERVICE_NAME, value: {{ printf "civitas-%s" $name | quote }}}
{{- end }}
{{- end -}}

{{/* Refuse every change in the namespace (and to the namespace itself) but the deployer's and the cluster's own
controllers' (they create the pods a Deployment asks for, and report their status). CONNECT is refused too: an exec
into a pod would read the site key. */}}
{{- define "civitas.lockdownPolicy" -}}
{{- $policy := index . 0 -}}{{- $ns := index . 1 -}}{{- $deployer := index . 2 -}}{{- $flux := index . 3 -}}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {{ $policy }}
spec:
  failurePolicy: Fail
  matchConstraints:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: {{ $ns }}}
    resourceRules:
      - apiGroups: ["*"]
        apiVersions: ["*"]
        resources: ["*", "*/*"]
        operations: [CREATE, UPDATE, DELETE, CONNECT]
  matchConditions:
    - name: not-the-clusters-own-controllers
      expression: >-
        !(request.userInfo.username.startsWith('system:serviceaccount:kube-system:')
        || request.userInfo.username.startsWith('system:node:')
        || request.userInfo.username in ['system:kube-controller-manager', 'system:kube-scheduler', 'system:apiserver'])
    - name: not-helms-own-record-of-the-release  # helm install writes it last; it runs nothing, so it needs no guard
      expression: "!(request.resource.resource == 'secrets' && request.name.startsWith('sh.helm.release.v1.'))"
  validations:
    - expression: "request.userInfo.username == '{{ $deployer }}'{{ with $flux }} || request.userInfo.username == '{{ . }}'{{ end }}"
      reason: Forbidden
      messageExpression: >-
        'the namespace {{ $ns }} is self-governed: only its deployer changes it, after the voters approve a
        proposal; refused for ' + request.userInfo.username
{{- end -}}

{{/* The lock-out's guard, for the API server's static manifests: the policy and its binding may not be changed or deleted. */}}
{{- define "civitas.lockdownGuard" -}}
{{- $policy := index . 0 -}}{{- $release := index . 1 -}}{{- $ns := index . 2 -}}
{{- $guard := printf "civitas-lockdown-guard.%s.%s.static.k8s.io" $release $ns -}}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {{ $guard }}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [admissionregistration.k8s.io]
        apiVersions: ["*"]
        resources: [validatingadmissionpolicies, validatingadmissionpolicybindings]
        operations: [UPDATE, DELETE]
  validations:
    - expression: "!(oldObject.metadata.name == '{{ $policy }}')"
      reason: Forbidden
      message: "the lock-out of {{ $ns }} is not changed through the API: only a constitutional change reaches it"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {{ $guard }}
spec:
  policyName: {{ $guard }}
  validationActions: [Deny]
{{- end -}}
