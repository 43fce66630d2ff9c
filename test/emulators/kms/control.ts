/**
 * The in-process test handle. It is a plain object returned by startKmsEmulator; nothing
 * here is reachable over HTTP.
 */
import type { CallCounter } from "./call-counter.ts";
import type { FaultPlan } from "./fault-plan.ts";
import type { KeyState, KeyStore } from "./key-store.ts";

export interface KeySummary {
  keyId: string;
  arn: string;
  state: KeyState;
  description: string;
  aliases: string[];
  materialVersions: number;
}

export interface FaultOptions {
  /** Only requests for this operation (e.g. "Decrypt") are affected; default: any. */
  operation?: string;
}

export interface KmsControl {
  /** The next `count` matching requests answer 400 ThrottlingException. */
  throttleNext(count: number, options?: FaultOptions): void;
  /** The next `count` matching requests fail: 500 KMSInternalException (default) or a plain 503 with an empty body. */
  failNext(count: number, options?: FaultOptions & { status?: 500 | 503 }): void;
  /** The next `count` matching requests have their connection destroyed without any response. */
  dropNext(count: number, options?: FaultOptions): void;
  /** The next `count` matching requests are answered `ms` later. */
  delayNext(count: number, ms: number, options?: FaultOptions): void;
  /** Every request for `operation` answers AccessDeniedException until `allowOperation`. */
  denyOperation(operation: string): void;
  allowOperation(operation: string): void;
  /** Only these access key ids are accepted (others: UnrecognizedClientException); undefined = any. */
  allowAccessKeys(accessKeyIds: readonly string[] | undefined): void;
  /** Stop listening and destroy open connections; clients see ECONNREFUSED/ECONNRESET. */
  goOffline(): Promise<void>;
  /** Listen again on the same port. */
  goOnline(): Promise<void>;
  /** Requests received for `operation` since start or the last `resetCounts`. */
  calls(operation: string): number;
  callCounts(): Record<string, number>;
  resetCounts(): void;
  keys(): KeySummary[];
  setKeyState(keyId: string, state: KeyState): void;
  /** Removes a key outright: its blobs then decrypt to AccessDeniedException. */
  deleteKey(keyId: string): void;
  /** Adds new key material; Encrypt uses it, old blobs still decrypt. Returns the new version. */
  rotateKey(keyId: string): number;
  /** Clears faults, denials and the access-key allow-list (keys and counts stay). */
  reset(): void;
}

export interface ControlDeps {
  store: KeyStore;
  faults: FaultPlan;
  counter: CallCounter;
  goOffline(): Promise<void>;
  goOnline(): Promise<void>;
}

export function createControl(deps: ControlDeps): KmsControl {
  const { store, faults, counter } = deps;
  const existingKey = (keyId: string) => {
    const key = store.getKey(keyId);
    if (key === undefined) throw new Error(`kms emulator control: no key ${keyId}`);
    return key;
  };
  return {
    throttleNext: (count, options = {}) => faults.arm({ kind: "throttle" }, count, options.operation),
    failNext: (count, options = {}) =>
      faults.arm({ kind: "fail", status: options.status ?? 500 }, count, options.operation),
    dropNext: (count, options = {}) => faults.arm({ kind: "drop" }, count, options.operation),
    delayNext: (count, ms, options = {}) => faults.armDelay(ms, count, options.operation),
    denyOperation: (operation) => void faults.deniedOperations.add(operation),
    allowOperation: (operation) => void faults.deniedOperations.delete(operation),
    allowAccessKeys: (ids) => {
      faults.allowedAccessKeys = ids === undefined ? undefined : new Set(ids);
    },
    goOffline: deps.goOffline,
    goOnline: deps.goOnline,
    calls: (operation) => counter.get(operation),
    callCounts: () => counter.snapshot(),
    resetCounts: () => counter.reset(),
    keys: () =>
      store.listKeys().map((key) => ({
        keyId: key.keyId,
        arn: key.arn,
        state: key.state,
        description: key.description,
        aliases: store.aliasesOf(key.keyId).map((alias) => alias.name),
        materialVersions: key.materials.length,
      })),
    setKeyState: (keyId, state) => {
      const key = existingKey(keyId);
      key.state = state;
      if (state === "PendingDeletion") {
        key.pendingWindowInDays = 30;
        key.deletionDate = new Date(Date.now() + 30 * 86_400_000);
      } else {
        delete key.deletionDate;
        delete key.pendingWindowInDays;
      }
    },
    deleteKey: (keyId) => {
      if (!store.deleteKey(keyId)) throw new Error(`kms emulator control: no key ${keyId}`);
    },
    rotateKey: (keyId) => store.rotateKey(existingKey(keyId).keyId),
    reset: () => faults.clear(),
  };
}
