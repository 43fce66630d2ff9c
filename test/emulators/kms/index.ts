/**
 * Protocol-faithful AWS KMS emulator (awsJson1_1 over HTTP) for tests. See
 * /work/shared/specs/kms-and-unseal.md Part A for the behaviour it follows.
 */
import { CallCounter } from "./call-counter.ts";
import { createControl, type KmsControl } from "./control.ts";
import { FaultPlan } from "./fault-plan.ts";
import { KeyStore } from "./key-store.ts";
import { createRequestHandler } from "./request-handler.ts";
import { startHttpServer } from "./server.ts";

export type { FaultOptions, KeySummary, KmsControl } from "./control.ts";
export type { KeyState } from "./key-store.ts";

export interface KmsEmulatorOptions {
  /** Default: a free port chosen by the kernel. */
  port?: number;
  /** Default us-east-1. */
  region?: string;
  /** Default 111122223333. */
  accountId?: string;
}

export interface KmsEmulator {
  /** http://127.0.0.1:PORT — pass as `endpoint` / `--endpoint-url`. */
  url: string;
  region: string;
  accountId: string;
  control: KmsControl;
  createKey(opts?: { alias?: string; description?: string }): Promise<{ keyId: string; arn: string }>;
  close(): Promise<void>;
}

export async function startKmsEmulator(opts: KmsEmulatorOptions = {}): Promise<KmsEmulator> {
  const region = opts.region ?? "us-east-1";
  const accountId = opts.accountId ?? "111122223333";
  if (!/^\d{12}$/.test(accountId)) throw new Error(`kms emulator: accountId must be 12 digits, got '${accountId}'`);
  const store = new KeyStore(region, accountId);
  const faults = new FaultPlan();
  const counter = new CallCounter();
  const handler = createRequestHandler({ store, faults, counter });
  const http = await startHttpServer({ port: opts.port ?? 0, faults, ...handler });
  return {
    url: `http://127.0.0.1:${http.port}`,
    region,
    accountId,
    control: createControl({ store, faults, counter, goOffline: http.goOffline, goOnline: http.goOnline }),
    createKey: async (keyOpts = {}) => {
      const key = store.createKey(keyOpts.description ?? "");
      if (keyOpts.alias !== undefined) {
        if (!keyOpts.alias.startsWith("alias/"))
          throw new Error(`kms emulator: alias must start with alias/, got '${keyOpts.alias}'`);
        store.addAlias(keyOpts.alias, key.keyId);
      }
      return { keyId: key.keyId, arn: key.arn };
    },
    close: http.close,
  };
}
