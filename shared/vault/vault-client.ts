import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import vault from "node-vault";
import { PermanentError, RetryLaterError, isPermanent, isRetryLater } from "../errors/errors.ts";
import { classifyVaultError } from "../errors/vault-errors.ts";
import { withKvV2Hint } from "./kv-v2-hint.ts";
import type { LeaseRenewal, SealStatus, VaultAuth, VaultPort, VaultSecret } from "../ports/vault-kube.ts";

export interface VaultClientOptions {
  readonly endpoint: string;
  /** The controller's own token (or where to get the current one), used only for lifecycle calls. */
  readonly controllerToken: string | undefined | (() => string | undefined);
  readonly timeoutMs: number;
}

interface AuthBody {
  auth?: {
    client_token?: string;
    accessor?: string;
    lease_duration?: number;
    renewable?: boolean;
    token_type?: string;
  };
}
interface SecretBody {
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  data?: unknown;
}

/** A secret as Vault answers a read or a write: KV has no lease (empty id, no duration). */
function toSecret(body: SecretBody): VaultSecret {
  return {
    leaseId: body.lease_id ?? "",
    leaseDurationSeconds: body.lease_duration ?? 0,
    renewable: body.renewable ?? false,
    data: body.data ?? null,
  };
}

/** VaultPort over node-vault. Each call carries its token in the header; the client keeps none. */
export function createVaultClient(options: VaultClientOptions): VaultPort {
  const keepAlive = { keepAlive: true, maxSockets: 64 };
  const client = vault({
    apiVersion: "v1",
    endpoint: options.endpoint,
    requestOptions: {
      timeout: options.timeoutMs,
      httpAgent: new HttpAgent(keepAlive),
      httpsAgent: new HttpsAgent(keepAlive),
    } as never,
  });
  client.token = "";

  const as = (token: string | undefined) => ({ headers: { "X-Vault-Token": token ?? "" } });
  const tokenSource = options.controllerToken;
  const controller = () => {
    const token = typeof tokenSource === "function" ? tokenSource() : tokenSource;
    if (!token) throw new RetryLaterError("vault: leasekeeper's own Vault token is not available yet", 5000);
    return as(token);
  };

  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      // Our own verdicts (a batch token, no controller token yet) are final; Vault's answers are classified.
      if (isPermanent(err) || isRetryLater(err)) throw err;
      throw classifyVaultError(err, what);
    }
  }

  return {
    kubernetesLogin: (authPath, role, jwt) => {
      const what = `login to auth/${authPath} as role ${role}`;
      return call(what, async () =>
        toAuth((await client.write(`auth/${authPath}/login`, { role, jwt }, as(undefined))) as AuthBody, what),
      );
    },

    readSecret: (podToken, path) =>
      withKvV2Hint(
        path,
        call(`read ${path}`, async () => toSecret((await client.read(path, as(podToken))) as SecretBody)),
      ),

    writeSecret: (podToken, path, params) =>
      call(`write ${path}`, async () =>
        toSecret((await client.write(path, { ...params }, as(podToken))) as SecretBody),
      ),

    renewSelf: (podToken, incrementSeconds) =>
      call("renew pod token", async () =>
        toAuth(
          (await client.write(
            "auth/token/renew-self",
            { increment: `${incrementSeconds}s` },
            as(podToken),
          )) as AuthBody,
          "renew pod token",
        ),
      ),

    renewLease: (leaseId, incrementSeconds) =>
      call(`renew lease ${leaseId}`, async () => {
        const body = (await client.write(
          "sys/leases/renew",
          { lease_id: leaseId, increment: incrementSeconds },
          controller(),
        )) as SecretBody;
        return { ttlSeconds: body.lease_duration ?? 0, renewable: body.renewable ?? false } satisfies LeaseRenewal;
      }),

    revokeLease: (leaseId) =>
      call(`revoke lease ${leaseId}`, async () => {
        await client.write("sys/leases/revoke", { lease_id: leaseId, sync: true }, controller());
      }),

    revokeAccessor: (accessor) =>
      call("revoke pod token by accessor", async () => {
        try {
          await client.write("auth/token/revoke-accessor", { accessor }, controller());
        } catch (err) {
          // An accessor that is already gone (revoked or expired) is the goal reached.
          const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
          const message = err instanceof Error ? err.message : "";
          if (status === 400 && /invalid accessor|not found/i.test(message)) return;
          throw err;
        }
      }),

    lookupAccessor: (accessor) =>
      call("look up a token by accessor", async () => {
        try {
          const body = (await client.write("auth/token/lookup-accessor", { accessor }, controller())) as {
            data?: { meta?: Record<string, string> | null; expire_time?: string | null };
          };
          // vault/token_store.go handleLookup also returns a token past its expiry that the expiration
          // manager has not revoked yet: it is gone for our purposes (nothing of it still works).
          const expires = body.data?.expire_time ? Date.parse(body.data.expire_time) : NaN;
          if (Number.isFinite(expires) && expires <= Date.now()) return undefined;
          return body.data?.meta ?? {};
        } catch (err) {
          const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
          if (status === 400 || status === 404) return undefined; // gone (revoked or expired) or never existed
          throw err;
        }
      }),

    sealStatus: () =>
      call("seal status", async () => {
        const body = (await client.read("sys/seal-status", as(undefined))) as {
          initialized?: boolean;
          sealed?: boolean;
          progress?: number;
          t?: number;
        };
        return {
          initialized: body.initialized ?? false,
          sealed: body.sealed ?? true,
          progress: body.progress ?? 0,
          threshold: body.t ?? 0,
        } satisfies SealStatus;
      }),
  };
}

/** Only what leasekeeper can use: a service token, with the accessor every revocation goes by. */
function toAuth(body: AuthBody, what: string): VaultAuth {
  const auth = body.auth;
  if (!auth?.client_token) throw new Error(`vault: ${what}: response has no auth block`);
  if (auth.token_type === "batch" || !auth.accessor) {
    // A batch token has no accessor and can be neither renewed nor revoked: retrying cannot help.
    throw new PermanentError(
      `vault: ${what}: Vault issued a batch token (token_type=batch); leasekeeper needs service tokens (an accessor to revoke the pod's leases by, renewal) — set token_type=service or default on the role`,
      "VaultBatchToken",
    );
  }
  return {
    token: auth.client_token,
    accessor: auth.accessor,
    ttlSeconds: auth.lease_duration ?? 0,
    renewable: auth.renewable ?? false,
  };
}
