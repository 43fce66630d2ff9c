/** Response builders: Vault's logical envelope, raw JSON bodies, 204s and error bodies. */
import { randomUUID } from "node:crypto";
import type { Data, Reply } from "./types.ts";

const BASE_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

export interface AuthBlock {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string> | null;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: "service" | "batch";
  orphan: boolean;
  mfa_requirement: null;
  num_uses: number;
}

export interface LogicalOptions {
  data?: Data | null;
  auth?: AuthBlock | null;
  warnings?: string[] | null;
  lease?: { id: string; duration: number; renewable: boolean };
  mountType: string;
  status?: number;
  /** Extra top-level keys (legacy sys endpoints copy data to the top level). */
  extra?: Data;
}

/** Go's json.Encoder output: the body ends with a newline. */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { ...BASE_HEADERS, ...headers }, body: `${JSON.stringify(body)}\n` };
}

export function emptyReply(status = 204): Reply {
  return { status, headers: { ...BASE_HEADERS }, body: "" };
}

export function errorReply(status: number, errors: string[]): Reply {
  return jsonReply(status, { errors });
}

export function logical(o: LogicalOptions): Reply {
  const warnings = o.warnings && o.warnings.length > 0 ? o.warnings : null;
  return jsonReply(o.status ?? 200, {
    ...(o.extra ?? {}),
    request_id: randomUUID(),
    lease_id: o.lease?.id ?? "",
    renewable: o.lease?.renewable ?? false,
    lease_duration: o.lease?.duration ?? 0,
    data: o.data ?? null,
    wrap_info: null,
    warnings,
    auth: o.auth ?? null,
    mount_type: o.mountType,
  });
}
