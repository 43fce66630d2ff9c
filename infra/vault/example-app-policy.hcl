# Example workload policy (the classic Vault + Kubernetes + PostgreSQL tutorial): what a pod
# logging in with the Kubernetes-auth role "postgres" may read. leasekeeper reads these paths
# with the pod's own token; renewals and revocations use leasekeeper's token, so the pod's
# policy needs nothing under sys/.
path "database/creds/postgres-role" {
  capabilities = ["read"]
}
path "secret/data/db-pass" {
  capabilities = ["read"]
}
