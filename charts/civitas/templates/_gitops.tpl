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
names them by digest, and spec.values would override it), no deployer, no lock-out (it stays in this release). */}}
{{- define "civitas.siteValues" -}}
{{- $services := dict -}}
{{- range $name, $svc := .Values.services -}}{{- $_ := set $services $name (omit $svc "image") -}}{{- end -}}
{{- $values := omit .Values "gitops" "services" "lockdown" -}}
{{- $_ := set $values "services" $services -}}
{{- $_ := set $values "lockdown" false -}}
{{- $_ := set $values "gitops" (dict "enabled" false "bootstrap" .Release.Name) -}}
{{- toYaml $values -}}
{{- end -}}
