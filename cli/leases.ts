import { CliError, type ApiClient } from "./http-client.ts";
import type { OutputIo } from "./revoke.ts";
import { formatTable, parseDuration, relative } from "./table.ts";

export const LEASES_OPTIONS = {
  namespace: { type: "string", short: "n" },
  pod: { type: "string" },
  role: { type: "string" },
  "expiring-within": { type: "string" },
  output: { type: "string", short: "o" },
} as const;

export interface LeasesFlags {
  namespace?: string | undefined;
  pod?: string | undefined;
  role?: string | undefined;
  "expiring-within"?: string | undefined;
  output?: string | undefined;
}

/** What GET /v1/leases returns per pod (the route never sends a secret value, token or accessor). */
interface PodLeases {
  namespace: string;
  name: string;
  role: string;
  state: string;
  tokenExpiresAt: string;
  earliestExpiry: string;
  nextRenewAt?: string;
  leases: Array<{ id: string; path: string; file: string; expiresAt: string; renewable: boolean }>;
}

/** `leasekeeper leases [--namespace ns] [--pod [ns/]name] [--role r] [--expiring-within 10m] [-o json]`. */
export async function runLeases(api: ApiClient, flags: LeasesFlags, io: OutputIo): Promise<number> {
  const query = new URLSearchParams();
  if (flags.namespace) query.set("namespace", flags.namespace);
  if (flags.pod) query.set("pod", flags.pod);
  if (flags.role) query.set("role", flags.role);
  if (flags["expiring-within"] !== undefined) {
    const seconds = parseDuration(flags["expiring-within"]);
    if (seconds === undefined)
      throw new CliError(
        `--expiring-within wants a duration such as 90s, 10m, 2h, 1d; got "${flags["expiring-within"]}"`,
        2,
      );
    query.set("expiringWithin", String(seconds));
  }
  const output = flags.output ?? "table";
  if (output !== "table" && output !== "json") throw new CliError(`--output is table or json, not "${output}"`, 2);
  const qs = query.toString();
  const { body } = await api.get<{ pods: PodLeases[] }>(`/v1/leases${qs ? `?${qs}` : ""}`);
  if (output === "json") {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.pods.length === 0) {
    io.out("No pods match.");
    return 0;
  }
  io.out(leasesTable(body.pods));
  const leases = body.pods.reduce((n, p) => n + p.leases.length, 0);
  io.out(`${body.pods.length} pod(s), ${leases} lease(s).`);
  return 0;
}

export function leasesTable(pods: readonly PodLeases[], now: number = Date.now()): string {
  const rows: string[][] = [];
  for (const p of pods) {
    const pod = `${p.namespace}/${p.name}`;
    const common = [relative(p.tokenExpiresAt, now), relative(p.nextRenewAt, now)];
    if (p.leases.length === 0) rows.push([pod, p.role, p.state, "-", "-", "-", ...common]);
    for (const l of p.leases)
      rows.push([
        pod,
        p.role,
        p.state,
        l.id,
        l.path,
        `${relative(l.expiresAt, now)}${l.renewable ? "" : " (not renewable)"}`,
        ...common,
      ]);
  }
  return formatTable(["POD", "ROLE", "STATE", "LEASE", "PATH", "EXPIRES", "TOKEN EXPIRES", "NEXT RENEWAL"], rows);
}
