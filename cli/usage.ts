/** The CLI's help, one section per command, in the order `--help` prints them. */

/** How the CLI was started, for its help: `leasekeeper`, or `kubectl leasekeeper` from the plugin. */
export function programName(env: NodeJS.ProcessEnv): string {
  return env.LEASEKEEPER_CLI_NAME?.trim() || "leasekeeper";
}

export const COMMANDS = ["revoke", "leases", "audit", "job", "unseal", "dashboard", "ci-sign", "keys"] as const;
export type Command = (typeof COMMANDS)[number];

const SECTIONS: Record<Command, (p: string) => string> = {
  revoke: (
    p,
  ) => `  ${p} revoke (--pod ns/name | --uid uid | --workload ns/Kind/name | --namespace ns | --lease id | --prefix path)
${" ".repeat(p.length + 10)}[--reason text] [--dry-run] [--yes] [--wait seconds]
      revoke credentials: always a dry run first; more than one pod asks y/N on the terminal (--yes skips it,
      without a terminal it refuses); --reason is required for a real revoke (it goes to the audit trail)`,
  leases: (
    p,
  ) => `  ${p} leases [--namespace ns] [--pod [ns/]name] [--role r] [--expiring-within 10m] [--output table|json]
      pods, leases, expiry and next renewal — never a secret, token or accessor`,
  audit: (
    p,
  ) => `  ${p} audit [--actor name] [--action revoke] [--since 1h|2025-01-31T10:00:00Z] [--limit n] [--follow] [--output table|json]
      the audit trail, oldest first; --actor matches part of the name; --follow keeps printing new records`,
  job: (p) => `  ${p} job <id> [--wait seconds] [--output table|json]
      a job's state and result (revoke, rotate, unseal, CI: ci-<delivery id>)`,
  unseal: (p) => `  ${p} unseal [--replica vault/vault-0 ...] [--wait seconds]
      run an unseal pass now and print each replica's outcome`,
  dashboard: (p) => `  ${p} dashboard
      print a one-time login link (60 s) to the queue dashboard for a browser; the session lasts 15 minutes`,
  "ci-sign": (p) => `  ${p} ci-sign [--delivery id] [--timestamp unix-seconds] (<json body> | -)
      print the headers of a signed POST /v1/hooks/ci, one per line (curl -H @file), with the secret in
      LEASEKEEPER_CI_SECRET; the job is ci-<delivery id> (default delivery: a random one)`,
  keys: (p) => `  ${p} keys import [--force] [--include-root-token] < shares
  ${p} keys verify
      put Vault's unseal key shares into the KMS-encrypted key store, or check it (docs/unseal.md; reads the
      service's environment: LEASEKEEPER_KMS_KEY_ID, LEASEKEEPER_UNSEAL_CLUSTER_ID, the key store, KUBECONFIG)`,
};

const API_NOTES = `server: --server URL, else LEASEKEEPER_URL, else the running sandbox's .sandbox/endpoints.json, else (in a pod)
        http://leasekeeper.leasekeeper.svc; plain http only to loopback or, from a pod, a cluster Service (--insecure-http)
auth:   --token T (or LEASEKEEPER_API_TOKEN), sent as it is; else a 10-minute token for audience leasekeeper
        (--audience, LEASEKEEPER_AUDIENCE) requested with your kubeconfig for --service-account ns/name
        (LEASEKEEPER_SERVICE_ACCOUNT), or for the kubeconfig user when it is a service account.
        Your own kubeconfig credentials are never sent to leasekeeper.
exit:   0 done, 1 error / refused / aborted, 2 usage, 3 partly failed (retry queued) or still running`;

/** Everything, in order. */
export function fullUsage(p: string): string {
  return `usage: ${p} <command> [flags]     (${p} <command> --help for one command)

on-call (leasekeeper's HTTP API):
${(["revoke", "leases", "audit", "job", "unseal", "dashboard"] as const).map((c) => SECTIONS[c](p)).join("\n")}

CI:
${SECTIONS["ci-sign"](p)}

operators:
${SECTIONS.keys(p)}

${API_NOTES}`;
}

/** One command's section (plus the server and auth notes for the commands that call the API). */
export function commandUsage(p: string, command: Command): string {
  const notes = command === "keys" || command === "ci-sign" ? "" : `\n\n${API_NOTES}`;
  return `usage:\n${SECTIONS[command](p)}${notes}`;
}
