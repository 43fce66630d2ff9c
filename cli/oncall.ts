import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { messageOf } from "../shared/errors/errors.ts";
import { AUDIT_OPTIONS, runAudit, type AuditFlags } from "./audit.ts";
import { runDashboard } from "./dashboard.ts";
import { ApiClient, ApiError, CliError, resolveCredentials, serverUrl } from "./http-client.ts";
import { JOB_OPTIONS, runJob, type JobFlags } from "./job.ts";
import { LEASES_OPTIONS, runLeases, type LeasesFlags } from "./leases.ts";
import { REVOKE_OPTIONS, runRevoke, type OutputIo, type RevokeFlags } from "./revoke.ts";
import { UNSEAL_OPTIONS, runUnseal, type UnsealFlags } from "./unseal.ts";
import { commandUsage, programName } from "./usage.ts";

/** The commands that call leasekeeper's HTTP API with a bearer token. */
export const ONCALL_COMMANDS = ["revoke", "leases", "audit", "job", "unseal", "dashboard"] as const;
export type OncallCommand = (typeof ONCALL_COMMANDS)[number];

const OPTIONS = {
  revoke: REVOKE_OPTIONS,
  leases: LEASES_OPTIONS,
  audit: AUDIT_OPTIONS,
  job: JOB_OPTIONS,
  unseal: UNSEAL_OPTIONS,
  dashboard: {},
} as const;

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
  /** Ends `audit --follow`. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

/** `leasekeeper revoke|leases|audit|job|unseal|dashboard …` against leasekeeper's HTTP API; returns the exit code. */
export async function runOncallCommand(
  command: OncallCommand,
  args: readonly string[],
  io: OutputIo,
  options: OncallOptions,
): Promise<number> {
  const { env } = options;
  const usage = commandUsage(programName(env), command);
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: { ...COMMON, ...OPTIONS[command] },
      strict: true,
      allowPositionals: command === "job",
    }) as {
      values: typeof values;
      positionals: string[];
    });
  } catch (err) {
    io.err(`leasekeeper ${command}: ${messageOf(err)}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }
  if (positionals.length > 1) {
    io.err(`leasekeeper ${command}: one job id, please\n\n${usage}`);
    return 2;
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
    switch (command) {
      case "revoke":
        return await runRevoke(api, values as RevokeFlags, io);
      case "leases":
        return await runLeases(api, values as LeasesFlags, io);
      case "audit":
        return await runAudit(api, values as AuditFlags, io, { signal: options.signal, pollMs: options.pollMs });
      case "job":
        return await runJob(api, positionals[0], values as JobFlags, io);
      case "unseal":
        return await runUnseal(api, values as UnsealFlags, io);
      case "dashboard":
        return await runDashboard(api, io);
    }
  } catch (err) {
    if (err instanceof ApiError) {
      io.err(`leasekeeper ${command}: ${err.status === 0 ? "" : `${err.status} `}${err.code}: ${err.message}`);
      return 1;
    }
    if (err instanceof CliError) {
      io.err(`leasekeeper ${command}: ${err.message}${err.exitCode === 2 ? `\n\n${usage}` : ""}`);
      return err.exitCode;
    }
    throw err;
  }
}
