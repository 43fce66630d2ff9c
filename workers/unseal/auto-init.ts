import { PermanentError, isPermanent } from "../../shared/errors/errors.ts";
import type { UnsealOutcome } from "../../shared/jobs/job-types.ts";
import { keyMaterial, wipeAll, type KeyMaterial } from "../../shared/unseal/key-material.ts";
import type { ReplicaSealStatus } from "../../shared/unseal/vault-replica-client.ts";
import type { UnsealDeps } from "./deps.ts";
import { reasonOf, withRetry } from "./retry.ts";

export type InitResult =
  | { readonly kind: "refused"; readonly outcome: UnsealOutcome }
  | { readonly kind: "raced"; readonly status: ReplicaSealStatus }
  | { readonly kind: "initialized"; readonly status: ReplicaSealStatus; readonly material: KeyMaterial };

/**
 * Optional auto-init of an uninitialised Vault (off by default). Single writer (the "init"
 * lock); refuses when the key store already holds keys; proves KMS encrypt/decrypt and a
 * store write/read-back BEFORE sys/init; stores every share (and the root token) create-only
 * and verifies by reading back. If storing fails after sys/init, the keys go to the custodian
 * (memory, retried loudly) and Vault is still unsealed with them. Keys are never logged.
 */
export async function initializeReplica(deps: UnsealDeps, addr: string, name: string): Promise<InitResult> {
  const refused = (reason: string): InitResult => ({
    kind: "refused",
    outcome: { outcome: "not-initialized", replica: name, reason },
  });
  const { enabled, shares, threshold, storeRootToken } = deps.settings.autoInit;
  if (!enabled) return refused("Vault is not initialised and auto-init is off (LEASEKEEPER_UNSEAL_AUTO_INIT)");
  // Keys of an earlier init still in memory only: a second init now could leave two Vaults with one store.
  if (deps.custodian.pending)
    return refused(
      "keys of an earlier auto-init are not stored yet (held in memory); no other Vault is initialised until they are",
    );

  const locked = await deps.lock.run("init", async (): Promise<InitResult> => {
    let status: ReplicaSealStatus;
    try {
      status = await withRetry(deps, () => deps.replicas.sealStatus(addr));
    } catch (err) {
      return refused(`cannot read seal status before init: ${reasonOf(err)}`);
    }
    if (status.initialized) return { kind: "raced", status };
    try {
      const existing = await withRetry(deps, () => deps.keys.counts());
      if (existing)
        return refused(
          `key store ${deps.keys.location} already holds ${existing.shares} share(s); refusing to initialise (they may belong to another Vault)`,
        );
      await withRetry(deps, () => deps.keys.probe());
    } catch (err) {
      return refused(`key store ${deps.keys.location} is not usable, Vault left uninitialised: ${reasonOf(err)}`);
    }

    let material: KeyMaterial;
    try {
      // No retry: a lost answer cannot be asked for again (the second init says "already initialized").
      const result = await deps.replicas.initialize(addr, shares, threshold);
      material = keyMaterial(result.shares, storeRootToken ? result.rootToken : undefined);
      wipeAll(...result.shares, result.rootToken);
    } catch (err) {
      return refused(`sys/init failed: ${reasonOf(err)}`);
    }
    deps.log.warn(
      { replica: name, shares, threshold, rootTokenStored: storeRootToken },
      "vault initialised by leasekeeper",
    );

    try {
      await withRetry(deps, () => deps.keys.save(material, { overwrite: false }));
      deps.log.info(
        { replica: name, store: deps.keys.location, shares },
        "unseal keys stored, KMS-encrypted, and verified",
      );
    } catch (err) {
      deps.log.error(
        {
          replica: name,
          store: deps.keys.location,
          error: reasonOf(err),
          permanent: isPermanent(err),
          keysInMemoryOnly: true,
        },
        "VAULT UNSEAL KEYS NOT PERSISTED after init: holding them in memory and retrying; do not stop leasekeeper",
      );
      deps.custodian.hold(material, (m) => persistHeldKeys(deps, m));
    }
    try {
      status = await withRetry(deps, () => deps.replicas.sealStatus(addr));
    } catch {
      status = { initialized: true, sealed: true, threshold, shares, progress: 0, nonce: "" };
    }
    return { kind: "initialized", status, material };
  });
  if (!locked.locked) return refused("another worker is initialising Vault right now");
  return locked.value;
}

/**
 * The custodian's retry: under the same "init" lock as initialisations, and create-only. The store
 * was empty when this init began, but another replica may have initialised (and stored its keys)
 * since: those are never overwritten. If the store already holds exactly these keys (an earlier
 * attempt wrote them but its answer was lost) that counts as stored.
 */
async function persistHeldKeys(deps: UnsealDeps, material: KeyMaterial): Promise<void> {
  const locked = await deps.lock.run("init", async () => {
    try {
      await deps.keys.save(material, { overwrite: false });
    } catch (err) {
      if (!(isPermanent(err) && err.reason === "KeyStoreExists")) throw err;
      if (await deps.keys.holds(material)) return;
      throw new PermanentError(
        `key store ${deps.keys.location} holds another initialisation's keys; they are not overwritten, and this Vault's keys stay in memory only (store them elsewhere, e.g. re-key once unsealed)`,
        "KeyStoreConflict",
      );
    }
  });
  if (!locked.locked) throw new Error("another worker holds the init lock; storing the keys is retried");
}
