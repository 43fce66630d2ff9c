/**
 * Renders the templated files of one pod under its token. Identical `secret` calls across the
 * pod's files share one Vault request (so a certificate file and its key file hold the same
 * certificate), and each distinct call becomes one lease record. Template failures are
 * permanent and their messages never carry secret values.
 */
import { PermanentError } from "../shared/errors/errors.ts";
import type { LeaseRecord } from "../shared/index/pod-record.ts";
import type { SecretRequest } from "../shared/pods/pod-contract.ts";
import type { VaultSecret } from "../shared/ports/vault-kube.ts";
import { secretCallKey } from "../shared/templates/ast.ts";
import { parseTemplate } from "../shared/templates/parser.ts";
import { renderTemplate } from "../shared/templates/render.ts";
import { isTemplateError } from "../shared/templates/template-error.ts";
import { SecretValue } from "../shared/templates/values.ts";
import type { WorkerDeps } from "./deps.ts";

export class TemplateReads {
  readonly #leases = new Map<string, LeaseRecord>();
  readonly #cache = new Map<string, Promise<VaultSecret>>();
  /** request key -> files whose templates used it */
  readonly #users = new Map<string, Set<string>>();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly podToken: string,
    private readonly staticRefreshSeconds: number | undefined,
    private readonly onLease?: (lease: LeaseRecord) => Promise<void>,
  ) {}

  async render(secret: SecretRequest): Promise<string> {
    try {
      const parsed = parseTemplate(secret.template ?? "");
      return await renderTemplate(parsed, (path, params) => this.#fetch(secret.file, path, params));
    } catch (err) {
      if (isTemplateError(err))
        throw new PermanentError(`template of ${secret.file}: ${err.message}`, "TemplateFailed", { cause: err });
      throw err;
    }
  }

  async #fetch(file: string, path: string, params: Readonly<Record<string, string>>): Promise<SecretValue> {
    const key = secretCallKey(path, params);
    const users = this.#users.get(key) ?? new Set<string>();
    users.add(file);
    this.#users.set(key, users);
    let pending = this.#cache.get(key);
    if (!pending) {
      pending =
        Object.keys(params).length > 0
          ? this.deps.vault.writeSecret(this.podToken, path, params)
          : this.deps.vault.readSecret(this.podToken, path);
      this.#cache.set(key, pending);
      const record = this.#record(file, path, await pending);
      this.#leases.set(key, record);
      if (record.id !== "") await this.onLease?.(record);
    }
    const read = await pending;
    return new SecretValue(read.leaseId, read.leaseDurationSeconds, read.renewable, read.data, null);
  }

  /**
   * One record per distinct request. A KV read used only by files that also hold a lease is not
   * re-read on its own: re-rendering such a file would replace the leased credentials too.
   */
  get leases(): LeaseRecord[] {
    const leasedFiles = new Set<string>();
    for (const [key, record] of this.#leases)
      if (record.id !== "") for (const f of this.#users.get(key) ?? []) leasedFiles.add(f);
    return [...this.#leases].map(([key, record]) => {
      const staticOnly = record.id === "" && record.refreshAt !== undefined && record.ttlSeconds === 0;
      if (staticOnly && [...(this.#users.get(key) ?? [])].every((f) => leasedFiles.has(f))) {
        const { refreshAt: _dropped, ...rest } = record;
        return rest;
      }
      return record;
    });
  }

  #record(file: string, path: string, read: VaultSecret): LeaseRecord {
    const now = this.deps.now();
    const record: LeaseRecord = {
      id: read.leaseId,
      path,
      file,
      expiresAt: now + read.leaseDurationSeconds * 1000,
      renewable: read.renewable,
      ttlSeconds: read.leaseDurationSeconds,
    };
    if (read.leaseId !== "") return record;
    const notAfter = certificateExpiry(read.data);
    if (notAfter !== undefined) {
      // A certificate without a lease: issue a new one at two thirds of its life.
      const life = Math.max(0, notAfter - now);
      return {
        ...record,
        expiresAt: notAfter,
        ttlSeconds: Math.round(life / 1000),
        refreshAt: now + Math.max(1000, (life * 2) / 3),
      };
    }
    if (this.staticRefreshSeconds !== undefined)
      return { ...record, refreshAt: now + this.staticRefreshSeconds * 1000 };
    return record;
  }
}

/** NotAfter (epoch ms) of a PKI issue response: `expiration` seconds next to a `certificate`. */
export function certificateExpiry(data: unknown): number | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as { certificate?: unknown; expiration?: unknown };
  return typeof d.certificate === "string" && typeof d.expiration === "number" ? d.expiration * 1000 : undefined;
}
