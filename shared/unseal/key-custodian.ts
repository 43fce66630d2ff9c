import { messageOf } from "../errors/errors.ts";
import type { Log } from "../observability/log.ts";
import { keyMaterial, type KeyMaterial } from "./key-material.ts";

export interface CustodianDeps {
  readonly log: Log;
  /** Set to 1 while keys exist only in memory. */
  readonly setPending: (pending: boolean) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
}

/**
 * Keeps freshly initialised unseal keys in memory when storing them failed, and retries the
 * store until it succeeds — loudly, on every attempt, without ever printing a key. Losing them
 * would leave Vault initialised and unrecoverable (vault-init's failure mode).
 */
export class KeyCustodian {
  readonly #deps: CustodianDeps;
  #held: KeyMaterial | undefined;
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: CustodianDeps) {
    this.#deps = deps;
  }

  get pending(): boolean {
    return this.#held !== undefined;
  }

  /** A copy of the held material (the caller wipes it), or undefined. */
  material(): KeyMaterial | undefined {
    return this.#held ? keyMaterial(this.#held.shares, this.#held.rootToken) : undefined;
  }

  /**
   * Takes a copy of `material` and retries `persist` with capped backoff until it succeeds.
   * `persist` runs outside whatever lock the caller held when it handed the keys over, so it must
   * never overwrite keys it did not write (auto-init: create-only under the init lock).
   */
  hold(material: KeyMaterial, persist: (material: KeyMaterial) => Promise<void>): void {
    if (this.#held) throw new Error("key custodian already holds unpersisted keys; refusing to replace them");
    const held = keyMaterial(material.shares, material.rootToken);
    this.#held = held;
    this.#deps.setPending(true);
    this.#loop = this.#retry(held, persist).finally(() => {
      this.#loop = undefined;
    });
  }

  /** Resolves once nothing is pending (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#loop;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    if (this.#held) {
      this.#deps.log.fatal(
        { keysInMemoryOnly: true },
        "STOPPING WITH VAULT UNSEAL KEYS NOT PERSISTED: they are lost with this process; re-key Vault (vault operator rekey) once it is unsealed",
      );
      this.#held.wipe();
      this.#held = undefined;
    }
  }

  async #retry(held: KeyMaterial, persist: (material: KeyMaterial) => Promise<void>): Promise<void> {
    const { baseMs, maxMs } = this.#deps.backoff ?? { baseMs: 1000, maxMs: 60_000 };
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        await persist(held);
        this.#deps.log.warn(
          { attempt },
          "vault unseal keys are now stored in the key store (they had been held in memory only)",
        );
        held.wipe();
        this.#held = undefined;
        this.#deps.setPending(false);
        return;
      } catch (err) {
        this.#deps.log.error(
          { attempt, error: messageOf(err), keysInMemoryOnly: true },
          "VAULT UNSEAL KEYS NOT PERSISTED: Vault is initialised but its unseal keys exist only in this process's memory; retrying the key store",
        );
        await this.#deps.sleep(Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 16)));
      }
    }
  }
}
