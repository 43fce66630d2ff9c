# leasekeeper's own Vault policy: lifecycle calls only. It never reads a credential with its
# own token (each pod's secrets are read with that pod's token, from Kubernetes auth).

# Renew and revoke the leases of pods' tokens (shared/vault/vault-client.ts).
path "sys/leases/renew" {
  capabilities = ["update"]
}
path "sys/leases/revoke" {
  capabilities = ["update"]
}
# Inspect a lease (on-call API: lease listing and dry runs).
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Revoke a pod's token, and with it every lease under it, by accessor; look one up.
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}

# Seal status (also answered without a token; granted so health checks with a token work).
path "sys/seal-status" {
  capabilities = ["read"]
}
