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

export type TokenType = "service" | "batch";

export interface TokenEntry {
  id: string;
  /** vault/token_store.go: batch tokens have no accessor, are not renewable and cannot be revoked. */
  type: TokenType;
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
  /** Auth role (or token role) the token was issued for (renewal re-checks it). */
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
  /** The node serving the request (its own seal / HA state; the storage may be shared). */
  node: NodeState;
}

/** Per-node state a route may need (kept structural to avoid a types ↔ core-types cycle). */
export interface NodeState {
  ha: { stepDown(): void } | undefined;
}

export type Handler = (req: VaultRequest, match: RegExpExecArray) => Promise<Reply> | Reply;

export interface Route {
  pattern: RegExp;
  ops: Partial<Record<Operation, Handler>>;
  sudo?: boolean;
  unauthenticated?: boolean;
}

/** What a login token's renewal re-reads from its auth method (the role's TTLs). */
export interface RenewParams {
  defaultTtl: number;
  maxTtl: number;
}

export interface Mount {
  /** With trailing slash, e.g. "database/". */
  path: string;
  type: string;
  routes: Route[];
  /** Auth methods: renewal of a token issued at this mount goes back to the method (role must still exist). */
  renewParams?: (token: TokenEntry) => RenewParams;
  /** Auth mounts enabled over sys/auth: their accessor and description for `GET sys/auth`. */
  accessor?: string;
  description?: string;
}

/** Token types an auth role or token role may ask for (sdk/helper/tokenutil). */
export type RoleTokenType = "default" | "service" | "batch" | "default-service" | "default-batch";

/** The token_* fields of an auth role (token-params.ts parses them). */
export interface TokenParams {
  token_ttl: number;
  token_max_ttl: number;
  token_period: number;
  token_explicit_max_ttl: number;
  token_policies: string[];
  token_no_default_policy: boolean;
  token_num_uses: number;
  token_bound_cidrs: string[];
  token_type: RoleTokenType;
}

/** A token store role (token-roles.ts). */
export interface TokenRole extends TokenParams {
  name: string;
  allowed_policies: string[];
  orphan: boolean;
  renewable: boolean;
  path_suffix: string;
}
