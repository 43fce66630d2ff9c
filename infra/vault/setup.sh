#!/bin/sh
# Configures Vault for leasekeeper with curl only (no Vault CLI, no jq). Idempotent: run it
# again after changing a policy. Nothing secret is printed or passed on a command line (the
# admin token goes to curl in a header file; the controller token is written to a 0600 file).
#
# Required:  VAULT_ADDR  VAULT_TOKEN (an admin token; revoke it afterwards)
# Optional:  VAULT_CACERT                 CA bundle for Vault's TLS certificate
#            K8S_HOST                     API server as Vault reaches it (default https://kubernetes.default.svc)
#            K8S_CA_CERT_FILE             its CA (omit when Vault runs in the cluster: it uses its pod's)
#            TOKEN_REVIEWER_JWT_FILE      a JWT allowed to create TokenReviews (omit in-cluster: Vault's own)
#            AUDIENCE                     audience of the pod-bound tokens (default vault = LEASEKEEPER_TOKEN_AUDIENCE)
#            APP_ROLE APP_SERVICE_ACCOUNT APP_NAMESPACE APP_POLICY_FILE   the example workload role
#                                         (default postgres, postgres-vault, default, example-app-policy.hcl)
#            APP_TOKEN_TTL APP_TOKEN_MAX_TTL                              (default 1h, 24h)
#            DB_CONNECTION_URL DB_USERNAME DB_PASSWORD_FILE               the database engine example
#                                         (skipped unless DB_CONNECTION_URL is set)
#            DB_DEFAULT_TTL DB_MAX_TTL    (default 1h, 24h)
#            CONTROLLER_ROLE_TTL CONTROLLER_ROLE_MAX_TTL                  leasekeeper's own Kubernetes-auth role
#                                         "leasekeeper" (default 1h, 24h); bound to LEASEKEEPER_NAMESPACE/leasekeeper
#            CONTROLLER_TOKEN_FILE        or a static token instead: write a new leasekeeper token (policy
#                                         leasekeeper, renewable) there
#            CONTROLLER_TOKEN_TTL         its lifetime (default 768h); leasekeeper renews it while it can
set -eu

: "${VAULT_ADDR:?set VAULT_ADDR}"
: "${VAULT_TOKEN:?set VAULT_TOKEN (an admin token)}"
HERE=$(cd "$(dirname "$0")" && pwd)
K8S_HOST=${K8S_HOST:-https://kubernetes.default.svc}
AUDIENCE=${AUDIENCE:-vault}
APP_ROLE=${APP_ROLE:-postgres}
APP_SERVICE_ACCOUNT=${APP_SERVICE_ACCOUNT:-postgres-vault}
APP_NAMESPACE=${APP_NAMESPACE:-default}
APP_POLICY_FILE=${APP_POLICY_FILE:-$HERE/example-app-policy.hcl}
APP_POLICY_NAME=${APP_POLICY_NAME:-$APP_ROLE-app}
APP_TOKEN_TTL=${APP_TOKEN_TTL:-1h}
APP_TOKEN_MAX_TTL=${APP_TOKEN_MAX_TTL:-24h}
DB_DEFAULT_TTL=${DB_DEFAULT_TTL:-1h}
DB_MAX_TTL=${DB_MAX_TTL:-24h}
CONTROLLER_ROLE_TTL=${CONTROLLER_ROLE_TTL:-1h}
CONTROLLER_ROLE_MAX_TTL=${CONTROLLER_ROLE_MAX_TTL:-24h}
CONTROLLER_TOKEN_TTL=${CONTROLLER_TOKEN_TTL:-768h}

umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'X-Vault-Token: %s\n' "$VAULT_TOKEN" > "$tmp/auth-header"

# vault_api METHOD PATH [JSON]: the answer is left in $tmp/out; any non-2xx stops the script.
vault_api() {
  method=$1
  path=$2
  if [ $# -ge 3 ]; then
    printf '%s' "$3" > "$tmp/in"
    set -- --data-binary "@$tmp/in" -H "Content-Type: application/json"
  else
    set --
  fi
  if [ -n "${VAULT_CACERT:-}" ]; then set -- "$@" --cacert "$VAULT_CACERT"; fi
  code=$(curl --silent --show-error --max-time 30 -o "$tmp/out" -w '%{http_code}' -X "$method" -H "@$tmp/auth-header" "$@" "$VAULT_ADDR/v1/$path")
  case $code in
    2??) ;;
    *) echo "setup: $method $path answered HTTP $code: $(head -c 500 "$tmp/out")" >&2; exit 1 ;;
  esac
}

# json_string < text: the text as one JSON string literal.
json_string() {
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' -e 's/\r$//' |
    awk 'BEGIN { ORS = ""; print "\"" } NR > 1 { print "\\n" } { print } END { print "\"" }'
}
json_file() { json_string < "$1"; }
json_value() { printf '%s' "$1" | json_string; }

echo "setup: Kubernetes auth at auth/kubernetes"
vault_api GET sys/auth
if ! grep -q '"kubernetes/"' "$tmp/out"; then
  vault_api POST sys/auth/kubernetes '{"type":"kubernetes","description":"Kubernetes service accounts (leasekeeper logs in as each pod)"}'
fi
config="{\"kubernetes_host\":$(json_value "$K8S_HOST")"
if [ -n "${K8S_CA_CERT_FILE:-}" ]; then config="$config,\"kubernetes_ca_cert\":$(json_file "$K8S_CA_CERT_FILE")"; fi
if [ -n "${TOKEN_REVIEWER_JWT_FILE:-}" ]; then config="$config,\"token_reviewer_jwt\":$(json_file "$TOKEN_REVIEWER_JWT_FILE")"; fi
vault_api POST auth/kubernetes/config "$config}"

echo "setup: policies leasekeeper and $APP_POLICY_NAME"
vault_api PUT sys/policies/acl/leasekeeper "{\"policy\":$(json_file "$HERE/leasekeeper-policy.hcl")}"
vault_api PUT sys/policies/acl/"$APP_POLICY_NAME" "{\"policy\":$(json_file "$APP_POLICY_FILE")}"

echo "setup: role auth/kubernetes/role/$APP_ROLE for $APP_NAMESPACE/$APP_SERVICE_ACCOUNT"
vault_api POST auth/kubernetes/role/"$APP_ROLE" "{\"bound_service_account_names\":[$(json_value "$APP_SERVICE_ACCOUNT")],\"bound_service_account_namespaces\":[$(json_value "$APP_NAMESPACE")],\"token_policies\":[$(json_value "$APP_POLICY_NAME")],\"audience\":$(json_value "$AUDIENCE"),\"token_ttl\":$(json_value "$APP_TOKEN_TTL"),\"token_max_ttl\":$(json_value "$APP_TOKEN_MAX_TTL")}"

echo "setup: role auth/kubernetes/role/leasekeeper for leasekeeper's own service account"
vault_api POST auth/kubernetes/role/leasekeeper "{\"bound_service_account_names\":[\"leasekeeper\"],\"bound_service_account_namespaces\":[\"${LEASEKEEPER_NAMESPACE:-leasekeeper}\"],\"token_policies\":[\"leasekeeper\"],\"audience\":$(json_value "$AUDIENCE"),\"token_ttl\":$(json_value "$CONTROLLER_ROLE_TTL"),\"token_max_ttl\":$(json_value "$CONTROLLER_ROLE_MAX_TTL")}"

if [ -n "${DB_CONNECTION_URL:-}" ]; then
  : "${DB_USERNAME:?set DB_USERNAME for the database engine example}"
  : "${DB_PASSWORD_FILE:?set DB_PASSWORD_FILE for the database engine example}"
  echo "setup: database engine example (connection postgres, role postgres-role)"
  vault_api GET sys/mounts
  if ! grep -q '"database/"' "$tmp/out"; then
    vault_api POST sys/mounts/database '{"type":"database"}'
  fi
  vault_api POST database/config/postgres "{\"plugin_name\":\"postgresql-database-plugin\",\"connection_url\":$(json_value "$DB_CONNECTION_URL"),\"username\":$(json_value "$DB_USERNAME"),\"password\":$(tr -d '\n' < "$DB_PASSWORD_FILE" | json_string),\"allowed_roles\":[\"postgres-role\"]}"
  statements='CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '"'"'{{password}}'"'"' VALID UNTIL '"'"'{{expiration}}'"'"'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";'
  vault_api POST database/roles/postgres-role "{\"db_name\":\"postgres\",\"creation_statements\":[$(json_value "$statements")],\"default_ttl\":$(json_value "$DB_DEFAULT_TTL"),\"max_ttl\":$(json_value "$DB_MAX_TTL")}"
fi

if [ -n "${CONTROLLER_TOKEN_FILE:-}" ]; then
  echo "setup: leasekeeper's token (policy leasekeeper, ttl $CONTROLLER_TOKEN_TTL) -> $CONTROLLER_TOKEN_FILE"
  vault_api POST auth/token/create-orphan "{\"policies\":[\"leasekeeper\"],\"no_default_policy\":true,\"ttl\":$(json_value "$CONTROLLER_TOKEN_TTL"),\"display_name\":\"leasekeeper\",\"renewable\":true}"
  token=$(tr -d '\n' < "$tmp/out" | sed -n 's/.*"client_token":[[:space:]]*"\([^"]*\)".*/\1/p')
  if [ -z "$token" ]; then echo "setup: auth/token/create-orphan answered without a client_token" >&2; exit 1; fi
  printf '%s' "$token" > "$CONTROLLER_TOKEN_FILE"
  chmod 600 "$CONTROLLER_TOKEN_FILE"
fi

echo "setup: done"
