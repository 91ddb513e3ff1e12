#!/bin/sh
# As the official image: every $NGINX_ENVSUBST_TEMPLATE_DIR/**/*$NGINX_ENVSUBST_TEMPLATE_SUFFIX
# (default /etc/nginx/templates/*.template) is rendered with envsubst into
# $NGINX_ENVSUBST_OUTPUT_DIR (default /etc/nginx/conf.d), substituting only the variables
# that are set (optionally only those starting with $NGINX_ENVSUBST_FILTER).
set -e
template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
filter=${NGINX_ENVSUBST_FILTER:-}

[ -d "$template_dir" ] || exit 0
# shellcheck disable=SC2016,SC2046 # a literal ${NAME} per variable name, names split on purpose
defined_envs=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print ( name ~ /^${filter}/ ) ? name : \"\" } }" </dev/null))
find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
  relative=${template#"$template_dir/"}
  output=$output_dir/${relative%"$suffix"}
  if [ ! -w "$output_dir" ]; then
    echo >&2 "$0: ERROR: $output_dir is not writable, cannot render $template"
    exit 1
  fi
  mkdir -p "$(dirname "$output")"
  echo "$0: Running envsubst on $template to $output"
  envsubst "$defined_envs" <"$template" >"$output"
done
