/** What `npm run sandbox` prints when it is ready: every endpoint, then ready-to-paste commands for each user. */

export interface BannerInput {
  readonly kubernetes: string;
  readonly vault: string;
  readonly kms: string;
  readonly kmsKeyId: string;
  readonly redis: string;
  readonly postgresPort: number | undefined;
  readonly api: string;
  readonly sandboxControl: string;
}

export function banner(e: BannerInput): string {
  const endpoint = (key: string) => `$(node -p 'require("./.sandbox/endpoints.json").${key}')`;
  return `
sandbox ready (every role of leasekeeper is running; logs follow as JSON)
  Kubernetes  ${e.kubernetes}     kubeconfig: .sandbox/kubeconfig
  Vault       ${e.vault}     root token in .sandbox/endpoints.json
  KMS         ${e.kms}     key ${e.kmsKeyId}
  Redis       ${e.redis}
  PostgreSQL  ${e.postgresPort === undefined ? "not available" : `127.0.0.1:${e.postgresPort}`}
  leasekeeper ${e.api}  (API docs ${e.api}/docs, metrics ${e.api}/metrics)
  sandbox     ${e.sandboxControl}  (test infrastructure only: POST /vault/restart restarts Vault sealed)
  on: CI hook (secret: ciHmacSecret), API token (apiToken), vault.hashicorp.com/* annotations,
      admission webhook for namespace default — all in .sandbox/endpoints.json

in a second terminal, in this directory (README "Try it" walks through all of it):
  export KUBECONFIG=.sandbox/kubeconfig PATH="$PWD/bin:$PATH"      # kubectl, and the kubectl leasekeeper plugin

platform engineer — pods get their own credentials
  kubectl apply -f examples/postgres-pod.yaml                      # leasekeeper.io/* annotations
  kubectl get secret -l leasekeeper.io/pod-name=app -o jsonpath='{.items[0].data.creds\\.json}' | base64 -d
  kubectl apply -f examples/injector-pod.yaml                      # vault.hashicorp.com/* annotations, mutated by the webhook
  kubectl get secret -l leasekeeper.io/pod-name=injected -o jsonpath='{.items[0].data.db-creds}' | base64 -d
  curl -s ${e.api}/metrics | grep '^leasekeeper_jobs_total'      # every route: ${e.api}/docs
  kubectl leasekeeper dashboard                                    # open the link in a browser within 60 s: the queue dashboard

CI — a signed call, then its job
  export LEASEKEEPER_CI_SECRET=${endpoint("ciHmacSecret")}
  body='{"action":"rotate","scope":{"type":"pod","namespace":"default","name":"app"},"reason":"deploy 42"}'
  id="deploy-$(date +%s)"; kubectl leasekeeper ci-sign --delivery "$id" "$body" > .sandbox/ci-headers.txt
  curl -sS "${e.api}/v1/hooks/ci?wait=30" -H @.sandbox/ci-headers.txt --data-binary "$body"
  LEASEKEEPER_API_TOKEN=${endpoint("apiToken")} kubectl leasekeeper job "ci-$id"

on-call — the CLI (it finds this sandbox through .sandbox/endpoints.json)
  export LEASEKEEPER_API_TOKEN=${endpoint("apiToken")}
  kubectl leasekeeper revoke --pod default/injected --dry-run
  kubectl leasekeeper revoke --pod default/injected --reason INC-1
  kubectl leasekeeper audit --since 10m
  kubectl leasekeeper unseal

Ctrl-C stops everything and removes what the sandbox made (.sandbox, Redis's and PostgreSQL's temp dirs).
`;
}
