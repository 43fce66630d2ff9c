import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import { ApiClient, ApiError, CliError, resolveCredentials, serverUrl } from "./http-client.ts";
import { LEASES_OPTIONS, runLeases, type LeasesFlags } from "./leases.ts";
import { REVOKE_OPTIONS, runRevoke, type OutputIo, type RevokeFlags } from "./revoke.ts";
import { UNSEAL_OPTIONS, runUnseal, type UnsealFlags } from "./unseal.ts";

export const ONCALL_COMMANDS = ["revoke", "leases", "unseal"] as const;
export type OncallCommand = (typeof ONCALL_COMMANDS)[number];

export const ONCALL_USAGE = `usage: leasekeeper revoke (--pod ns/name | --uid uid | --workload ns/Kind/name | --namespace ns | --lease id | --prefix path)
                          [--reason text] [--dry-run] [--yes] [--wait seconds]
       leasekeeper leases [--namespace ns] [--pod [ns/]name] [--role r] [--expiring-within 10m] [--output table|json]
       leasekeeper unseal [--replica vault/vault-0 ...] [--wait seconds]
common: --server URL (or LEASEKEEPER_URL), --insecure-http (allow http:// to a non-loopback host)
auth:   --token T (or LEASEKEEPER_API_TOKEN), sent as it is; else a 10-minute token for audience leasekeeper
        (--audience, LEASEKEEPER_AUDIENCE) requested with your kubeconfig for --service-account ns/name
        (LEASEKEEPER_SERVICE_ACCOUNT), or for the kubeconfig user when it is a service account.
        Your own kubeconfig credentials are never sent to leasekeeper.

revoke always shows a dry run first; a real revoke of more than one pod asks y/N on the terminal
(--yes skips the question; without a terminal it refuses). --reason is required for a real revoke.
Exit codes: 0 done, 1 error / refused / aborted, 2 usage, 3 partly failed (retry queued) or still running.`;

const COMMON = {
  server: { type: "string" },
  token: { type: "string" },
  "service-account": { type: "string" },
  audience: { type: "string" },
  "insecure-http": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export interface OncallOptions {
  /** Where the server URL and the token come from (LEASEKEEPER_URL, LEASEKEEPER_API_TOKEN, KUBECONFIG). */
  readonly env: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
  readonly loadKubeConfig?: (env: NodeJS.ProcessEnv) => KubeConfig;
}

/** `leasekeeper revoke|leases|unseal …` against leasekeeper's HTTP API; returns the exit code. */
export async function runOncallCommand(command: OncallCommand, args: readonly string[], io: OutputIo, options: OncallOptions): Promise<number> {
  const { env } = options;
  const specific = command === "revoke" ? REVOKE_OPTIONS : command === "leases" ? LEASES_OPTIONS : UNSEAL_OPTIONS;
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: [...args], options: { ...COMMON, ...specific }, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    io.err(`leasekeeper ${command}: ${messageOf(err)}\n\n${ONCALL_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(ONCALL_USAGE);
    return 0;
  }
  try {
    const server = serverUrl(values.server as string | undefined, env, values["insecure-http"] === true);
    const credentials = await resolveCredentials(env, options.loadKubeConfig, {
      token: values.token as string | undefined,
      serviceAccount: values["service-account"] as string | undefined,
      audience: values.audience as string | undefined,
    });
    const api = new ApiClient({ server, token: credentials.token, ...(options.fetch ? { fetch: options.fetch } : {}) });
    // parseArgs checked each flag's type against the option table above.
    if (command === "revoke") return await runRevoke(api, values as RevokeFlags, io);
    if (command === "leases") return await runLeases(api, values as LeasesFlags, io);
    return await runUnseal(api, values as UnsealFlags, io);
  } catch (err) {
    if (err instanceof ApiError) {
      io.err(`leasekeeper ${command}: ${err.status === 0 ? "" : `${err.status} `}${err.code}: ${err.message}`);
      return 1;
    }
    if (err instanceof CliError) {
      io.err(`leasekeeper ${command}: ${err.message}${err.exitCode === 2 ? `\n\n${ONCALL_USAGE}` : ""}`);
      return err.exitCode;
    }
    throw err;
  }
}
