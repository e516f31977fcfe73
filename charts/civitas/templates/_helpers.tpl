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
