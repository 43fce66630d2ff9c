/**
 * An in-memory VaultPort for fast worker tests: Kubernetes-auth roles, secrets with and without
 * leases, token and lease TTLs capped by their max TTL, revocation by accessor taking the token's
 * leases with it. Failures go through the real classifier (shared/errors/vault-errors.ts) with
 * the status and text Vault sends, so workers see what they see in production.
 * test/fakes/port-contract.ts holds it to the same expectations as the real client on the emulator.
 */
import { randomBytes } from "node:crypto";
import { classifyVaultError } from "../../shared/errors/vault-errors.ts";
import type { LeaseRenewal, SealStatus, VaultAuth, VaultPort, VaultSecret } from "../../shared/ports/vault-kube.ts";

export interface FakeRole {
  /** "namespace/serviceaccount" allowed to log in. */
  readonly serviceAccounts: readonly string[];
  /** Paths the role's tokens may read or write (exact, or a prefix ending in "*"). */
  readonly paths: readonly string[];
  readonly tokenTtlSeconds: number;
  readonly tokenMaxTtlSeconds: number;
}

export interface FakeSecret {
  /** What a read answers; a leased secret's answer also names a new `username` per read. */
  readonly data: unknown;
  /** Without one the secret has no lease (KV). */
  readonly lease?: { readonly ttlSeconds: number; readonly maxTtlSeconds: number; readonly renewable: boolean };
}

export interface FakeToken {
  readonly token: string;
  readonly accessor: string;
  readonly role: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly maxExpiresAt: number;
  expiresAt: number;
  revoked: boolean;
}

export interface FakeLease {
  readonly id: string;
  readonly path: string;
  readonly accessor: string;
  readonly renewable: boolean;
  readonly maxExpiresAt: number;
  expiresAt: number;
  revoked: boolean;
}

type Method = keyof VaultPort;

/** Who a service-account JWT belongs to (the fake's TokenReview); undefined when not valid. */
export type Reviewer = (jwt: string) => { namespace: string; serviceAccount: string } | undefined;

export class FakeVault implements VaultPort {
  readonly roles = new Map<string, FakeRole>();
  readonly secrets = new Map<string, FakeSecret>();
  readonly tokens: FakeToken[] = [];
  readonly leases: FakeLease[] = [];
  /** Every call, by method name (never a token). */
  readonly calls: Method[] = [];
  sealed = false;
  readonly #review: Reviewer;
  readonly #now: () => number;
  readonly #faults: { method: Method; status: number; message: string }[] = [];

  constructor(review: Reviewer, now: () => number = Date.now) {
    this.#review = review;
    this.#now = now;
  }

  /** The next call of `method` fails with this HTTP status and Vault error text. */
  failNext(method: Method, status: number, message: string): void {
    this.#faults.push({ method, status, message });
  }

  async kubernetesLogin(authPath: string, role: string, jwt: string): Promise<VaultAuth> {
    this.#enter("kubernetesLogin", `login to auth/${authPath} as role ${role}`);
    const found = this.roles.get(role);
    if (authPath !== "kubernetes" || !found)
      throw fail(400, `invalid role name "${role}"`, `login to auth/${authPath} as role ${role}`);
    const who = this.#review(jwt);
    if (!who) throw fail(403, "permission denied", `login to auth/${authPath} as role ${role}`);
    if (!found.serviceAccounts.includes(`${who.namespace}/${who.serviceAccount}`)) {
      throw fail(400, "service account name not authorized", `login to auth/${authPath} as role ${role}`);
    }
    const now = this.#now();
    const token: FakeToken = {
      token: `hvs.${randomBytes(12).toString("base64url")}`,
      accessor: randomBytes(12).toString("base64url"),
      role,
      ...who,
      expiresAt: now + found.tokenTtlSeconds * 1000,
      maxExpiresAt: now + found.tokenMaxTtlSeconds * 1000,
      revoked: false,
    };
    this.tokens.push(token);
    return { token: token.token, accessor: token.accessor, ttlSeconds: found.tokenTtlSeconds, renewable: true };
  }

  async readSecret(podToken: string, path: string): Promise<VaultSecret> {
    this.#enter("readSecret", `read ${path}`);
    return this.#issue(podToken, path, `read ${path}`);
  }

  async writeSecret(podToken: string, path: string, params: Readonly<Record<string, string>>): Promise<VaultSecret> {
    this.#enter("writeSecret", `write ${path}`);
    const secret = await this.#issue(podToken, path, `write ${path}`);
    return { ...secret, data: { ...(secret.data as object), ...params } };
  }

  async renewSelf(podToken: string, incrementSeconds: number): Promise<VaultAuth> {
    this.#enter("renewSelf", "renew pod token");
    const token = this.#valid(podToken, "renew pod token");
    const now = this.#now();
    token.expiresAt = Math.min(now + incrementSeconds * 1000, token.maxExpiresAt);
    return {
      token: token.token,
      accessor: token.accessor,
      ttlSeconds: Math.floor((token.expiresAt - now) / 1000),
      renewable: true,
    };
  }

  async renewLease(leaseId: string, incrementSeconds: number): Promise<LeaseRenewal> {
    this.#enter("renewLease", `renew lease ${leaseId}`);
    const lease = this.#live(leaseId);
    if (!lease) throw fail(400, "lease not found", `renew lease ${leaseId}`);
    if (!lease.renewable) throw fail(400, "lease is not renewable", `renew lease ${leaseId}`);
    const now = this.#now();
    lease.expiresAt = Math.min(now + incrementSeconds * 1000, lease.maxExpiresAt);
    return { ttlSeconds: Math.floor((lease.expiresAt - now) / 1000), renewable: true };
  }

  /** Unknown or already revoked ids are fine, as with sys/leases/revoke. */
  async revokeLease(leaseId: string): Promise<void> {
    this.#enter("revokeLease", `revoke lease ${leaseId}`);
    const lease = this.leases.find((l) => l.id === leaseId);
    if (lease) lease.revoked = true;
  }

  /** Revokes the token and (at once, where Vault is lazy) every lease under it; unknown accessors are fine. */
  async revokeAccessor(accessor: string): Promise<void> {
    this.#enter("revokeAccessor", "revoke pod token by accessor");
    const token = this.tokens.find((t) => t.accessor === accessor);
    if (!token) return;
    token.revoked = true;
    for (const lease of this.leases) if (lease.accessor === accessor) lease.revoked = true;
  }

  async lookupAccessor(accessor: string): Promise<Readonly<Record<string, string>> | undefined> {
    this.#enter("lookupAccessor", "look up a token by accessor");
    const token = this.tokens.find((t) => t.accessor === accessor && !t.revoked && t.expiresAt > this.#now());
    if (!token) return undefined;
    return { role: token.role, service_account_name: token.serviceAccount, service_account_namespace: token.namespace };
  }

  async sealStatus(): Promise<SealStatus> {
    this.#enter("sealStatus", "seal status", false);
    return { initialized: true, sealed: this.sealed, progress: 0, threshold: 3 };
  }

  /** Leases that are neither revoked nor expired. */
  liveLeases(): FakeLease[] {
    return this.leases.filter((l) => this.#live(l.id) !== undefined);
  }

  /** Whether the token behind this accessor still works. */
  tokenLive(accessor: string): boolean {
    return this.tokens.some((t) => t.accessor === accessor && !t.revoked && t.expiresAt > this.#now());
  }

  #enter(method: Method, what: string, sealable = true): void {
    this.calls.push(method);
    if (sealable && this.sealed) throw fail(503, "Vault is sealed", what);
    const fault = this.#faults.find((f) => f.method === method);
    if (!fault) return;
    this.#faults.splice(this.#faults.indexOf(fault), 1);
    throw fail(fault.status, fault.message, what);
  }

  async #issue(podToken: string, path: string, what: string): Promise<VaultSecret> {
    const token = this.#valid(podToken, what);
    const role = this.roles.get(token.role);
    if (!role?.paths.some((p) => (p.endsWith("*") ? path.startsWith(p.slice(0, -1)) : p === path)))
      throw fail(403, "permission denied", what);
    const secret = this.secrets.get(path);
    if (!secret) throw fail(404, "", what);
    if (!secret.lease)
      return { leaseId: "", leaseDurationSeconds: 0, renewable: false, data: structuredClone(secret.data) };
    const now = this.#now();
    const lease: FakeLease = {
      id: `${path}/${randomBytes(8).toString("base64url")}`,
      path,
      accessor: token.accessor,
      renewable: secret.lease.renewable,
      expiresAt: now + secret.lease.ttlSeconds * 1000,
      maxExpiresAt: now + secret.lease.maxTtlSeconds * 1000,
      revoked: false,
    };
    this.leases.push(lease);
    // Like database credentials, every read makes a new user.
    const data = { ...(secret.data as object), username: `v-${lease.id.slice(path.length + 1)}` };
    return { leaseId: lease.id, leaseDurationSeconds: secret.lease.ttlSeconds, renewable: lease.renewable, data };
  }

  #valid(podToken: string, what: string): FakeToken {
    const token = this.tokens.find((t) => t.token === podToken);
    if (!token || token.revoked || token.expiresAt <= this.#now()) throw fail(403, "permission denied", what);
    return token;
  }

  #live(leaseId: string): FakeLease | undefined {
    const lease = this.leases.find((l) => l.id === leaseId);
    if (!lease || lease.revoked || lease.expiresAt <= this.#now()) return undefined;
    const token = this.tokens.find((t) => t.accessor === lease.accessor);
    return token && !token.revoked && token.expiresAt > this.#now() ? lease : undefined;
  }
}

/** A node-vault style failure (status + Vault's error text), classified as the real client does. */
function fail(status: number, message: string, what: string): Error {
  const err = Object.assign(new Error(message || `Status ${status}`), {
    response: { statusCode: status, body: { errors: message ? [message] : [] } },
  });
  return classifyVaultError(err, what);
}
