/**
 * Files that are rendered again although nothing expires: KV secrets every
 * template-static-secret-render-interval, certificates without a lease at two thirds of their
 * life. The renew job is woken for them; files sharing a Vault request re-render together.
 */
import type { LeaseRecord, PodRecord } from "../shared/index/pod-record.ts";
import type { SecretRequest } from "../shared/pods/pod-contract.ts";
import { secretCallKey } from "../shared/templates/ast.ts";
import { parseTemplate } from "../shared/templates/parser.ts";

/** A refresh this close to due is done now rather than scheduled separately. */
const SLACK_MS = 1000;

export function refreshDue(record: PodRecord, now: number): LeaseRecord[] {
  return record.leases.filter((l) => l.refreshAt !== undefined && l.refreshAt <= now + SLACK_MS);
}

/** Milliseconds until the next file refresh; Infinity when nothing refreshes. */
export function refreshDelayMs(record: PodRecord, now: number): number {
  let next = Infinity;
  for (const l of record.leases) if (l.refreshAt !== undefined && l.refreshAt < next) next = l.refreshAt;
  return next === Infinity ? Infinity : Math.max(0, next - now);
}

/** The renew job's delay: lease/token renewal or the next file refresh, whichever is first. */
export function nextWakeMs(record: PodRecord, now: number, leaseDelayMs: number): number {
  return Math.min(leaseDelayMs, refreshDelayMs(record, now));
}

function dependencies(secret: SecretRequest): string[] {
  if (secret.template === undefined) return [secret.path];
  try {
    return parseTemplate(secret.template).secretCalls.map((c) => secretCallKey(c.path, c.params));
  } catch {
    return [secret.path];
  }
}

/** `files` plus every file that shares a Vault request with one of them (a certificate and its key). */
export function withSharedDependencies(secrets: readonly SecretRequest[], files: ReadonlySet<string>): SecretRequest[] {
  const deps = new Map(secrets.map((s) => [s.file, dependencies(s)]));
  const wanted = new Set(files);
  for (let grew = true; grew;) {
    grew = false;
    const keys = new Set([...wanted].flatMap((f) => deps.get(f) ?? []));
    for (const s of secrets) {
      if (!wanted.has(s.file) && (deps.get(s.file) ?? []).some((k) => keys.has(k))) {
        wanted.add(s.file);
        grew = true;
      }
    }
  }
  return secrets.filter((s) => wanted.has(s.file));
}
