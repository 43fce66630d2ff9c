import type { Context } from "hono";
import type { AuditLog, AuditRecord } from "../../shared/audit/audit-log.ts";
import type { ApiEnv } from "./auth/identity.ts";

/** What a route says about one call; when, which request and who come from the request itself. */
export type AuditFields = Omit<AuditRecord, "at" | "requestId" | "actor" | "dryRun"> & { readonly dryRun?: boolean };

/** Writes the audit record of one state-changing call (fields left undefined are left out). */
export async function auditCall(c: Context<ApiEnv>, audit: AuditLog, fields: AuditFields): Promise<void> {
  const identity = c.get("identity");
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as AuditFields;
  await audit.record({
    at: new Date().toISOString(),
    requestId: c.get("requestId"),
    actor: { kind: identity.kind, name: identity.name },
    dryRun: false,
    ...given,
  });
}
