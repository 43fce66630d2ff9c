/** In-process HashiCorp Vault emulator for tests. See README.md in this folder. */
import { createControl, type VaultControl } from "./control.ts";
import { createCore, createMounts, startSweeper } from "./core.ts";
import { handleRequest } from "./router.ts";
import { rootTokenId } from "./ids.ts";
import { startHttpServer, type Faults, type RequestRecord } from "./server.ts";

export type { VaultControl, LeaseInfo, TokenInfo } from "./control.ts";
export type { RequestRecord } from "./server.ts";
export type { TokenReviewRecord } from "./k8s-state.ts";

export interface VaultEmulatorOptions {
  port?: number;
  /** Default true: initialised with `shares`/`threshold`, unsealed, root token known. */
  initialized?: boolean;
  shares?: number;
  threshold?: number;
  rootToken?: string;
}

export interface VaultEmulator {
  url: string;
  /** Root token ("" until sys/init when started uninitialised). */
  readonly rootToken: string;
  /** Unseal keys, hex (empty until initialised). */
  readonly unsealKeys: string[];
  control: VaultControl;
  close(): Promise<void>;
}

export async function startVaultEmulator(opts: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const core = createCore();
  if (opts.initialized ?? true) {
    const keys = core.seal.init(opts.shares ?? 5, opts.threshold ?? 3, undefined);
    core.unsealKeys = keys.map((k) => k.toString("hex"));
    core.rootToken = opts.rootToken ?? rootTokenId();
    core.tokens.createRoot(core.rootToken);
    for (const key of keys.slice(0, core.seal.t)) core.seal.submit(key);
  }
  const mounts = createMounts(core);
  const faults: Faults = { latencyMs: 0, failures: [], refuseNext: 0 };
  const log: RequestRecord[] = [];
  const http = await startHttpServer((raw) => handleRequest(core, mounts, raw), faults, log, opts.port ?? 0);
  const stopSweeper = startSweeper(core);
  const control = createControl(core, faults, http, log);
  let closed = false;
  return {
    url: http.url,
    get rootToken() {
      return core.rootToken;
    },
    get unsealKeys() {
      return [...core.unsealKeys];
    },
    control,
    async close() {
      if (closed) return;
      closed = true;
      stopSweeper();
      await http.close();
      await core.leases.settle();
      await core.database.closeAll();
    },
  };
}
