# leasekeeper's own Vault policy: lifecycle calls only. It never reads a credential with its
# own token (each pod's secrets are read with that pod's token, from Kubernetes auth).
# Every path here is one shared/vault/vault-client.ts calls with leasekeeper's token
# (test/infra/vault-policy.test.ts fails on a path no code calls, and on a call no path grants).

# Renew and revoke the leases of pods' tokens; revoke with sync=true, so a database user is
# gone when the call returns.
path "sys/leases/renew" {
  capabilities = ["update"]
}
path "sys/leases/revoke" {
  capabilities = ["update"]
}

# Revoke a pod's token, and with it every lease under it, by accessor; look one up (a Secret's
# annotations are trusted only when Vault says the token belongs to that namespace).
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}
path "auth/token/lookup-accessor" {
  capabilities = ["update"]
}

# Keep leasekeeper's own token alive. Granted by the `default` policy too, but setup.sh creates
# the static controller token with no_default_policy, so without this it could not renew itself.
path "auth/token/renew-self" {
  capabilities = ["update"]
}
