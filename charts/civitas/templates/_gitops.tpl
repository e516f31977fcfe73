{{/* Kubernetes mode (ARCHITECTURE.md, "Kubernetes mode"). The operator's release (gitops.enabled: the "bootstrap"
part) holds Flux's objects, the deployer's account and its volumes, and runs no service; Flux runs the deployer as
the release RELEASE-deployer (gitops.deployerOf set, by its HelmRelease) from the values file the deployer commits
for itself, and every other service as RELEASE-site (gitops.bootstrap set) from the site's values file. */}}

{{/* Which part this release is: bootstrap, deployer, site, or "" (not Kubernetes mode: every service). */}}
{{- define "civitas.part" -}}
{{- if .Values.gitops.enabled -}}bootstrap
{{- else if .Values.gitops.deployerOf -}}deployer
{{- else if .Values.gitops.bootstrap -}}site
{{- end -}}
{{- end -}}

{{/* Whether service NAME runs in this release: "true" or "". */}}
{{- define "civitas.runsHere" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- $part := include "civitas.part" $root -}}
{{- if eq $part "deployer" -}}{{- if eq $name "deployer" -}}true{{- end -}}
{{- else if eq $part "site" -}}{{- if ne $name "deployer" -}}true{{- end -}}
{{- else if eq $part "" -}}true{{- end -}}
{{- end -}}

{{/* The name service NAME's objects start with: the operator's release name for the deployer (its Deployment,
Service, account and volumes keep their names whichever release holds them), RELEASE-site for the others. */}}
{{- define "civitas.releaseOf" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- $part := include "civitas.part" $root -}}
{{- $operators := $root.Values.gitops.deployerOf | default $root.Values.gitops.bootstrap | default $root.Release.Name -}}
{{- if eq $part "" -}}{{ $root.Release.Name }}
{{- else if eq $name "deployer" -}}{{ $operators }}
{{- else if eq $part "site" -}}{{ $root.Release.Name }}
{{- else -}}{{ $operators }}-site{{- end -}}
{{- end -}}

{{/* Whether this release holds service NAME's volumes (its home claim; the releases claim for the deployer): the
bootstrap part holds the deployer's, so a failed or rolled back deployer release never takes them. */}}
{{- define "civitas.holdsVolumes" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- $part := include "civitas.part" $root -}}
{{- if eq $part "bootstrap" -}}{{- if eq $name "deployer" -}}true{{- end -}}
{{- else if ne $part "deployer" -}}{{ include "civitas.runsHere" (list $root $name) }}{{- end -}}
{{- end -}}

{{/* The deployer's image in its own release: the one it committed for itself (deployer.image in its values file,
by digest), else the operator's (before its first handover). */}}
{{- define "civitas.deployerImage" -}}
{{- $own := .Values.deployer | default dict -}}
{{- $own.image | default .Values.gitops.fallbackImage -}}
{{- end -}}

{{/* The deployer's environment in Kubernetes mode: where it commits, and which Flux objects it reads. */}}
{{- define "civitas.gitopsEnv" -}}
{{- $root := . -}}
{{- $operators := include "civitas.releaseOf" (list $root "deployer") -}}
- {name: CIVITAS_DEPLOY_MODE, value: kubernetes}
- name: CIVITAS_GITOPS_URL  # with its push credentials: the deployer's alone, never in a release it deploys
  valueFrom: {secretKeyRef: {name: {{ $root.Values.gitops.pushSecret }}, key: url}}
- {name: CIVITAS_GITOPS_BRANCH, value: {{ $root.Values.gitops.branch | quote }}}
- {name: CIVITAS_GITOPS_VALUES_FILE, value: {{ $root.Values.gitops.valuesFile | quote }}}
- {name: CIVITAS_GITOPS_TIMEOUT_S, value: {{ $root.Values.gitops.deployerTimeoutSeconds | quote }}}
- {name: CIVITAS_GITOPS_NAMESPACE, value: {{ $root.Release.Namespace | quote }}}
- {name: CIVITAS_GITOPS_HELMRELEASE, value: {{ printf "%s-site" $operators | quote }}}
- {name: CIVITAS_GITOPS_GITREPOSITORY, value: {{ printf "%s-gitops" $operators | quote }}}
- {name: CIVITAS_GITOPS_DEPLOYER_HELMRELEASE, value: {{ printf "%s-deployer" $operators | quote }}}  # its own
- {name: CIVITAS_GITOPS_DEPLOYER_VALUES_FILE, value: {{ $root.Values.gitops.deployerValuesFile | quote }}}
- {name: CIVITAS_DEPLOYER_IMAGE, value: {{ include "civitas.deployerImage" $root | quote }}}  # the image it runs
- {name: CIVITAS_MAINTENANCE_NETWORK_POLICY, value: {{ printf "%s-maintenance-runs" $operators | quote }}}  # flux.yaml
{{- end -}}

{{/* What the site release gets as spec.values: these values, but no image (the GitOps repository's values file
names them by digest, and spec.values would override it), no deployer, no lock-out (it stays in this release); where
its pods fetch their release's files (the deployer's git service, with the deployer's image). */}}
{{- define "civitas.siteValues" -}}
{{- $services := dict -}}
{{- range $name, $svc := .Values.services -}}{{- $_ := set $services $name (omit $svc "image") -}}{{- end -}}
{{- $values := omit .Values "gitops" "services" "lockdown" -}}
{{- $_ := set $values "services" $services -}}
{{- $_ := set $values "lockdown" false -}}
{{- $files := dict "fallbackImage" (include "civitas.image" (list . .Values.services.deployer)) "source" (printf "git://%s-deployer:9418/live.git" .Release.Name) -}}
{{- $_ := set $values "gitops" (dict "enabled" false "bootstrap" .Release.Name "siteFiles" $files) -}}
{{- toYaml $values -}}
{{- end -}}

{{/* What the deployer's own release gets as spec.values: these values without any image (its image comes from
its values file, deployer.image, which spec.values would override) or lock-out, and the operator's deployer image
as the one to run before the deployer committed one (gitops.fallbackImage: another key, so it overrides nothing). */}}
{{- define "civitas.deployerValues" -}}
{{- $services := dict -}}
{{- range $name, $svc := .Values.services -}}{{- $_ := set $services $name (omit $svc "image") -}}{{- end -}}
{{- $values := omit .Values "gitops" "services" "lockdown" "deployer" -}}
{{- $_ := set $values "services" $services -}}
{{- $_ := set $values "lockdown" false -}}
{{- $gitops := omit .Values.gitops "enabled" "url" "fluxSecret" "fluxAccount" -}}
{{- $_ := set $gitops "enabled" false -}}
{{- $_ := set $gitops "deployerOf" .Release.Name -}}
{{- $_ := set $gitops "fallbackImage" (include "civitas.image" (list . .Values.services.deployer)) -}}
{{- $_ := set $values "gitops" $gitops -}}
{{- toYaml $values -}}
{{- end -}}

{{/* The deployer's git service in Kubernetes mode: `git daemon` beside the deployer, serving the live repository
read-only (the home volume mounted read-only; no receive-pack, no other repository, no token: the API token is
mounted into the deployer's container alone), so each site pod fetches exactly its release's commit by hash (protocol
v2 serves any object the repository holds; allowReachableSHA1InWant lets older clients ask by hash too). */}}
{{- define "civitas.gitService" -}}
{{- $root := index . 0 -}}{{- $svc := index . 1 -}}
- name: git
  image: {{ include "civitas.image" (list $root $svc) | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: [git, -c, uploadpack.allowReachableSHA1InWant=true, daemon, --strict-paths, --export-all,
            --base-path=/srv/home, --listen=0.0.0.0, --port=9418, --timeout=60, --init-timeout=10,
            --max-connections=32, --reuseaddr, /srv/home/live.git]
  env:
    - {name: HOME, value: /tmp}
    - {name: GIT_CONFIG_NOSYSTEM, value: "1"}
  ports:
    - {name: git, containerPort: 9418}
  readinessProbe:
    tcpSocket: {port: git}
    periodSeconds: 5
  resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 500m, memory: 256Mi}}
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: {drop: ["ALL"]}
  volumeMounts:
    - {name: home, mountPath: /srv/home, readOnly: true}
    - {name: git-tmp, mountPath: /tmp}  # not the deployer's /tmp, where a tag's signing key passes
{{- end -}}

{{/* The service account's token, CA and namespace for the deployer's container only (what automounting would put
in every container of the pod, the git service's included). */}}
{{- define "civitas.kubeApiAccess" -}}
- name: kube-api-access
  projected:
    sources:
      - serviceAccountToken: {path: token, expirationSeconds: 3607}
      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
      - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
{{- end -}}

{{/* In the site release (gitops.bootstrap): the initContainer that lays out the release's files in the pod's own
releases folder, fetched by the commit its values name from the deployer's git service and checked
(civitas_deployer.gitops.site_files), with the image of the deployer that committed the values (siteFiles.image in
the values file; before, the operator's). */}}
{{- define "civitas.siteFiles" -}}
{{- $root := . -}}
{{- $release := $root.Values.release | default dict -}}
{{- if not $release.commit -}}
{{- fail "the site release needs release.commit: the deployer writes it in the GitOps repository's values file (civitas/release.json)" -}}
{{- end -}}
{{- $files := $root.Values.gitops.siteFiles | default dict -}}
- name: site-files
  image: {{ (($root.Values.siteFiles | default dict).image | default $files.fallbackImage) | required "siteFiles.image: the deployer's image (the deployer writes it; the bootstrap release gives a fallback)" | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: [python, -m, civitas_deployer.gitops.site_files]
  args: [--source, {{ required "gitops.siteFiles.source: the deployer's git service" $files.source | quote }},
         --commit, {{ $release.commit | quote }}, --decision, {{ $release.decision | default "" | quote }},
         --into, {{ $root.Values.releases.mountPath | quote }}]
  env:
    - {name: HOME, value: /tmp}
  resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: "1", memory: 256Mi}}
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: {drop: ["ALL"]}
  volumeMounts:
    - {name: releases, mountPath: {{ $root.Values.releases.mountPath }}}
    - {name: tmp, mountPath: /tmp}
{{- end -}}


{{/* A HelmRelease of this chart from the GitOps repository: (root, name, values file, spec.values as YAML, whether
the values file may be missing). Remediated by rollback after gitops.retries; versioned by the GitOps commit. */}}
{{- define "civitas.helmRelease" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}{{- $file := index . 2 -}}{{- $values := index . 3 -}}
{{- $optional := index . 4 }}
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {{ $name }}
  labels:
    {{- include "civitas.labels" $root | nindent 4 }}
spec:
  interval: 10m
  releaseName: {{ $name }}
  timeout: {{ $root.Values.gitops.timeout }}
  chart:
    spec:
      chart: {{ $root.Values.gitops.chart | quote }}
      reconcileStrategy: Revision  # the chart's version carries the commit: how the deployer knows what Flux attempted
      sourceRef: {kind: GitRepository, name: {{ printf "%s-gitops" $root.Release.Name }}}
      valuesFiles:
        - {{ printf "%s/values.yaml" (trimSuffix "/" $root.Values.gitops.chart) | quote }}
        - {{ printf "./%s" $file | quote }}
      {{- if $optional }}
      ignoreMissingValuesFiles: true
      {{- end }}
  install:
    remediation:
      retries: {{ $root.Values.gitops.retries }}
      remediateLastFailure: true
  upgrade:
    cleanupOnFail: true
    remediation:
      retries: {{ $root.Values.gitops.retries }}
      strategy: rollback
      remediateLastFailure: true
  rollback:
    cleanupOnFail: true
  values:
    {{- $values | nindent 4 }}
{{- end -}}
