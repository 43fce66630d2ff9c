/** VaultPort in memory: Kubernetes login (the fake JWT names the namespace), leases under tokens, revocations. */
import { PermanentError } from "../../../shared/errors/errors.ts";
import type { VaultAuth, VaultPort, VaultSecret } from "../../../shared/ports/vault-kube.ts";

interface Token {
  readonly token: string;
  readonly accessor: string;
  readonly namespace: string;
  revoked: boolean;
}

export class FakeVault implements VaultPort {
  readonly tokens = new Map<string, Token>();
  readonly leases = new Map<string, { accessor: string; path: string; revoked: boolean }>();
  /** Data returned per path; a lease is made for paths under database/. */
  readonly data = new Map<string, unknown>([["database/creds/r", { username: "u", password: "p" }]]);
  readonly calls: string[] = [];
  #n = 0;

  /** A token of `namespace` created outside leasekeeper (e.g. another workload's). */
  mint(namespace: string): Token {
    const n = ++this.#n;
    const t: Token = { token: `hvs.token-${n}`, accessor: `acc-${n}`, namespace, revoked: false };
    this.tokens.set(t.accessor, t);
    return t;
  }

  async kubernetesLogin(_authPath: string, _role: string, jwt: string): Promise<VaultAuth> {
    this.calls.push("login");
    const t = this.mint(jwt.split(":")[1] ?? "");
    return { token: t.token, accessor: t.accessor, ttlSeconds: 3600, renewable: true };
  }

  #owner(token: string): Token {
    const t = [...this.tokens.values()].find((x) => x.token === token && !x.revoked);
    if (!t) throw new PermanentError("vault: permission denied", "VaultForbidden");
    return t;
  }

  async readSecret(podToken: string, path: string): Promise<VaultSecret> {
    this.calls.push(`read ${path}`);
    const owner = this.#owner(podToken);
    const leaseId = path.startsWith("database/") ? `${path}/lease-${++this.#n}` : "";
    if (leaseId) this.leases.set(leaseId, { accessor: owner.accessor, path, revoked: false });
    return {
      leaseId,
      leaseDurationSeconds: leaseId ? 3600 : 0,
      renewable: leaseId !== "",
      data: this.data.get(path) ?? { value: path },
    };
  }

  async writeSecret(podToken: string, path: string): Promise<VaultSecret> {
    return this.readSecret(podToken, path);
  }

  async renewSelf(podToken: string, incrementSeconds: number): Promise<VaultAuth> {
    const t = this.#owner(podToken);
    return { token: t.token, accessor: t.accessor, ttlSeconds: incrementSeconds, renewable: true };
  }

  async renewLease(leaseId: string, incrementSeconds: number) {
    const lease = this.leases.get(leaseId);
    if (!lease || lease.revoked) throw new PermanentError("vault: lease not found", "LeaseNotFound");
    return { ttlSeconds: incrementSeconds, renewable: true };
  }

  async revokeLease(leaseId: string): Promise<void> {
    this.calls.push(`revoke-lease ${leaseId}`);
    const lease = this.leases.get(leaseId);
    if (lease) lease.revoked = true;
  }

  async revokeAccessor(accessor: string): Promise<void> {
    this.calls.push(`revoke-accessor ${accessor}`);
    const t = this.tokens.get(accessor);
    if (!t) return;
    t.revoked = true;
    for (const lease of this.leases.values()) if (lease.accessor === accessor) lease.revoked = true;
  }

  async lookupAccessor(accessor: string) {
    this.calls.push(`lookup ${accessor}`);
    const t = this.tokens.get(accessor);
    return t && !t.revoked ? { service_account_namespace: t.namespace } : undefined;
  }

  async sealStatus() {
    return { initialized: true, sealed: false, progress: 0, threshold: 3 };
  }

  count(prefix: string): number {
    return this.calls.filter((c) => c.startsWith(prefix)).length;
  }
}
