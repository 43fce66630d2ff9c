/** Shared shapes of the Vault emulator: raw HTTP in/out, logical requests, routes, tokens. */

export type Operation = "read" | "list" | "update" | "delete" | "patch";
export type Data = Record<string, unknown>;

export interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  remoteAddress: string;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface TokenEntry {
  id: string;
  accessor: string;
  policies: string[];
  displayName: string;
  meta: Record<string, string> | null;
  issueTime: number;
  creationTtl: number;
  expireAt: number | null;
  explicitMaxTtl: number;
  /** Effective max TTL in seconds measured from issueTime (0 = none). */
  maxTtl: number;
  period: number;
  renewable: boolean;
  orphan: boolean;
  parent: string | null;
  path: string;
  numUses: number;
  lastRenewal: number | null;
  revokedAt: number | null;
  entityId: string;
  /** Kubernetes auth role the token was issued for (renewal re-checks it). */
  role: string | null;
}

export interface VaultRequest {
  path: string;
  op: Operation;
  data: Data;
  query: URLSearchParams;
  headers: RawRequest["headers"];
  remoteAddress: string;
  /** Set by the router once the token passed checks (undefined on unauthenticated paths). */
  token: TokenEntry | undefined;
}

export type Handler = (req: VaultRequest, match: RegExpExecArray) => Promise<Reply> | Reply;

export interface Route {
  pattern: RegExp;
  ops: Partial<Record<Operation, Handler>>;
  sudo?: boolean;
  unauthenticated?: boolean;
}

export interface Mount {
  /** With trailing slash, e.g. "database/". */
  path: string;
  type: string;
  routes: Route[];
}
