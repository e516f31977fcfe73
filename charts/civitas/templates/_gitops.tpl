{{/* Kubernetes mode (gitops.enabled; ARCHITECTURE.md, "Kubernetes mode"): this release runs the deployer alone, and
Flux runs every other service as the release RELEASE-site from the GitOps repository the deployer commits to. The
site release (gitops.bootstrap set, by the HelmRelease) runs them all but the deployer. */}}

{{/* Whether service NAME runs in this release: "true" or "". */}}
{{- define "civitas.runsHere" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- if $root.Values.gitops.enabled -}}{{- if eq $name "deployer" -}}true{{- end -}}
{{- else if $root.Values.gitops.bootstrap -}}{{- if ne $name "deployer" -}}true{{- end -}}
{{- else -}}true{{- end -}}
{{- end -}}

{{/* The release service NAME runs in: the deployer in the bootstrap release, the others in RELEASE-site. */}}
{{- define "civitas.releaseOf" -}}
{{- $root := index . 0 -}}{{- $name := index . 1 -}}
{{- if and $root.Values.gitops.enabled (ne $name "deployer") -}}{{ $root.Release.Name }}-site
{{- else if and $root.Values.gitops.bootstrap (eq $name "deployer") -}}{{ $root.Values.gitops.bootstrap }}
{{- else -}}{{ $root.Release.Name }}{{- end -}}
{{- end -}}

{{/* The deployer's environment in Kubernetes mode: where it commits, and which Flux objects it reads. */}}
{{- define "civitas.gitopsEnv" -}}
{{- $root := . -}}
- {name: CIVITAS_DEPLOY_MODE, value: kubernetes}
- name: CIVITAS_GITOPS_URL  # with its push credentials: the deployer's alone, never in a release it deploys
  valueFrom: {secretKeyRef: {name: {{ $root.Values.gitops.pushSecret }}, key: url}}
- {name: CIVITAS_GITOPS_BRANCH, value: {{ $root.Values.gitops.branch | quote }}}
- {name: CIVITAS_GITOPS_VALUES_FILE, value: {{ $root.Values.gitops.valuesFile | quote }}}
- {name: CIVITAS_GITOPS_TIMEOUT_S, value: {{ $root.Values.gitops.deployerTimeoutSeconds | quote }}}
- {name: CIVITAS_GITOPS_NAMESPACE, value: {{ $root.Release.Namespace | quote }}}
- {name: CIVITAS_GITOPS_HELMRELEASE, value: {{ printf "%s-site" $root.Release.Name | quote }}}
- {name: CIVITAS_GITOPS_GITREPOSITORY, value: {{ printf "%s-gitops" $root.Release.Name | quote }}}
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
{{- $files := dict "image" (include "civitas.image" (list . .Values.services.deployer)) "source" (printf "git://%s-deployer:9418/live.git" .Release.Name) -}}
{{- $_ := set $values "gitops" (dict "enabled" false "bootstrap" .Release.Name "siteFiles" $files) -}}
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
- name: git-tmp
  emptyDir: {sizeLimit: 64Mi}
- name: kube-api-access
  projected:
    sources:
      - serviceAccountToken: {path: token, expirationSeconds: 3607}
      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}
      - downwardAPI: {items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]}
{{- end -}}

{{/* In the site release (gitops.bootstrap): the initContainer that lays out the release's files in the pod's own
releases folder, fetched by the commit its values name from the deployer's git service and checked
(civitas_deployer.gitops.site_files). */}}
{{- define "civitas.siteFiles" -}}
{{- $root := . -}}
{{- $release := $root.Values.release | default dict -}}
{{- if not $release.commit -}}
{{- fail "the site release needs release.commit: the deployer writes it in the GitOps repository's values file (civitas/release.json)" -}}
{{- end -}}
{{- $files := $root.Values.gitops.siteFiles | default dict -}}
- name: site-files
  image: {{ required "gitops.siteFiles.image: the deployer's image (the bootstrap release sets it)" $files.image | quote }}
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
