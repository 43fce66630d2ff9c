import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import vault from "node-vault";
import { PermanentError, isPermanent } from "../errors/errors.ts";
import { classifyVaultError } from "../errors/vault-errors.ts";

export interface ReplicaSealStatus {
  readonly initialized: boolean;
  readonly sealed: boolean;
  /** t: shares needed. */
  readonly threshold: number;
  /** n: shares issued. */
  readonly shares: number;
  readonly progress: number;
  /** Identifies the unseal attempt in progress ("" when none). */
  readonly nonce: string;
  /** `storage_type` ("raft", "consul", …) when Vault reports it; a Raft follower reports "raft" before it joins. */
  readonly storageType?: string | undefined;
}

export interface InitResult {
  readonly shares: Buffer[];
  readonly rootToken: Buffer;
}

/**
 * The unauthenticated sys/* calls that each Vault replica must get individually (unseal
 * progress is per node, never forwarded). Shares are bytes; they become a base64 string only
 * inside the request body.
 */
export interface VaultReplicaPort {
  sealStatus(addr: string): Promise<ReplicaSealStatus>;
  /** A share Vault refuses (400, e.g. wrong keys at the threshold) throws PermanentError reason "UnsealKeyRejected". */
  submitUnsealKey(addr: string, share: Uint8Array): Promise<ReplicaSealStatus>;
  /** Discards a partial attempt; already unsealed is fine. */
  resetUnseal(addr: string): Promise<ReplicaSealStatus>;
  initialize(addr: string, shares: number, threshold: number): Promise<InitResult>;
}

interface SealStatusBody {
  initialized?: boolean;
  sealed?: boolean;
  t?: number;
  n?: number;
  progress?: number;
  nonce?: string;
  storage_type?: string;
}

/** VaultReplicaPort over node-vault, one client per address; never sends a token. */
export function createVaultReplicaClient(options: {
  timeoutMs: number;
  caCert?: string | undefined;
  /**
   * The name every replica's certificate is checked against (and sent as SNI) when dialled by pod
   * IP: Vault's certificates name Services (vault-active.vault.svc, *.vault-internal), not pod IPs.
   */
  serverName?: string | undefined;
}) {
  const clients = new Map<string, ReturnType<typeof vault>>();
  const keepAlive = { keepAlive: true, maxSockets: 8 };
  const httpAgent = new HttpAgent(keepAlive);
  const httpsAgent = new HttpsAgent({
    ...keepAlive,
    ...(options.caCert ? { ca: options.caCert } : {}),
    ...(options.serverName ? { servername: options.serverName } : {}),
  });

  function clientFor(addr: string) {
    let client = clients.get(addr);
    if (!client) {
      client = vault({
        apiVersion: "v1",
        endpoint: addr,
        requestOptions: { timeout: options.timeoutMs, httpAgent, httpsAgent } as never,
      });
      // node-vault picks up VAULT_TOKEN by default; these endpoints are unauthenticated and a
      // pod IP is not where the controller's token should go.
      client.token = "";
      clients.set(addr, client);
    }
    return client;
  }

  async function call<T>(
    what: string,
    run: () => Promise<T>,
    onRejected?: (status: number, err: Error) => Error | undefined,
  ): Promise<T> {
    try {
      return await run();
    } catch (raw) {
      // Our own verdict on the answer (e.g. NotVault) is final; only transport/HTTP errors are classified.
      if (isPermanent(raw) && raw.reason === "NotVault") throw raw;
      const err = sanitize(raw);
      const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
      throw (status !== undefined && onRejected?.(status, err)) || classifyVaultError(err, what);
    }
  }

  const toStatus = (body: SealStatusBody): ReplicaSealStatus => {
    // Something else answering at this address (a proxy page, another service): never take
    // "initialized missing" for "not initialised" (that would invite auto-init).
    if (
      typeof body !== "object" ||
      body === null ||
      typeof body.initialized !== "boolean" ||
      typeof body.sealed !== "boolean"
    ) {
      throw new PermanentError(
        "vault: the replica address does not answer like Vault (sys/seal-status without initialized/sealed)",
        "NotVault",
      );
    }
    return {
      initialized: body.initialized,
      sealed: body.sealed,
      threshold: body.t ?? 0,
      shares: body.n ?? 0,
      progress: body.progress ?? 0,
      nonce: body.nonce ?? "",
      storageType: typeof body.storage_type === "string" ? body.storage_type : undefined,
    };
  };

  const port: VaultReplicaPort = {
    sealStatus: (addr) =>
      call(`seal status of ${addr}`, async () =>
        toStatus((await clientFor(addr).read("sys/seal-status")) as SealStatusBody),
      ),

    submitUnsealKey: (addr, share) =>
      call(
        `unseal ${addr}`,
        async () =>
          toStatus(
            (await clientFor(addr).write("sys/unseal", {
              key: Buffer.from(share).toString("base64"),
            })) as SealStatusBody,
          ),
        (status, err) =>
          status === 400
            ? new PermanentError(
                `vault: unseal ${addr}: key share refused (${err.message.split("\n")[0]})`,
                "UnsealKeyRejected",
              )
            : undefined,
      ),

    resetUnseal: (addr) =>
      call(
        `reset unseal of ${addr}`,
        async () => toStatus((await clientFor(addr).write("sys/unseal", { reset: true })) as SealStatusBody),
        (status, err) => (status === 400 && /unsealed/i.test(err.message) ? new AlreadyUnsealed() : undefined),
      ).catch(async (err: unknown) => {
        if (err instanceof AlreadyUnsealed) return port.sealStatus(addr);
        throw err;
      }),

    initialize: (addr, shares, threshold) =>
      call(`init ${addr}`, async () => {
        const body = (await clientFor(addr).write("sys/init", {
          secret_shares: shares,
          secret_threshold: threshold,
        })) as {
          keys_base64?: string[];
          root_token?: string;
        };
        if (!Array.isArray(body.keys_base64) || typeof body.root_token !== "string")
          throw new Error("sys/init answered without keys");
        return {
          shares: body.keys_base64.map((k) => Buffer.from(k, "base64")),
          rootToken: Buffer.from(body.root_token, "utf8"),
        };
      }),
  };
  return port;
}

class AlreadyUnsealed extends Error {
  override readonly name = "AlreadyUnsealed";
}

/**
 * node-vault/axios errors carry the request (config.data holds the unseal key or the init
 * response). Keep only the message, status and network code before anything else sees them.
 */
function sanitize(raw: unknown): Error {
  const e = (raw ?? {}) as {
    message?: unknown;
    code?: unknown;
    response?: { statusCode?: unknown };
    cause?: { code?: unknown };
  };
  const message = typeof e.message === "string" ? e.message : "request failed";
  const clean = new Error(message);
  const statusCode = e.response?.statusCode;
  if (typeof statusCode === "number") Object.assign(clean, { response: { statusCode } });
  const code = typeof e.code === "string" ? e.code : typeof e.cause?.code === "string" ? e.cause.code : undefined;
  if (code) Object.assign(clean, { code });
  return clean;
}
