/**
 * The pod contract: which annotations opt a pod in and what they ask for. Parsing never
 * throws; malformed input becomes an `invalid` outcome whose reason is safe to show.
 */
import { defaultSecretName, secretNameProblem } from "./secret-name.ts";

export const PREFIX = "leasekeeper.io/";
export const ANNOTATION_ROLE = `${PREFIX}role`;
export const ANNOTATION_AUTH_PATH = `${PREFIX}auth-path`;
export const ANNOTATION_SECRET_NAME = `${PREFIX}secret-name`;
export const ANNOTATION_SECRET_PREFIX = `${PREFIX}secret-`;

export const MAX_SECRETS = 32;
export const MAX_ANNOTATION_BYTES = 4096;

export interface SecretRequest {
  /** Data key in the per-pod Secret, e.g. creds.json. */
  readonly file: string;
  /** Vault logical path, e.g. database/creds/postgres-role. */
  readonly path: string;
  /** Go template (vault.hashicorp.com/agent-inject-template-*); without one the file is the JSON of the secret's data. */
  readonly template?: string;
  /** Directory the file is mounted in and its path there (vault.hashicorp.com/* pods; the webhook uses them). */
  readonly mountPath?: string;
  readonly filePath?: string;
}

export interface PodRequest {
  readonly role: string;
  readonly authPath: string;
  readonly secretName: string;
  readonly secrets: readonly SecretRequest[];
  /** Re-read secrets without a lease (KV) this often, seconds (vault.hashicorp.com/template-static-secret-render-interval). */
  readonly staticRefreshSeconds?: number;
}

export type PodContract =
  | { readonly kind: "not-opted-in" }
  | { readonly kind: "invalid"; readonly reason: string }
  | { readonly kind: "request"; readonly request: PodRequest };

export interface PodLike {
  metadata?:
    { name?: string; generateName?: string | undefined; annotations?: Record<string, string> | undefined } | undefined;
}

const FILE_RE = /^[-._a-zA-Z0-9]{1,200}$/;
export const ROLE_RE = /^[A-Za-z0-9_.@-]{1,128}$/;
export const AUTH_PATH_RE = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const VAULT_PATH_RE = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.@=+-]+)+$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isOptedIn(pod: PodLike): boolean {
  const annotations = pod.metadata?.annotations;
  return annotations !== undefined && annotations !== null && typeof annotations[ANNOTATION_ROLE] === "string";
}

/** The Secret name a pod asks for, or why it may not use it (secret-name.ts). */
export function podSecretName(
  pod: PodLike,
  annotations: Record<string, string>,
): { name: string } | { problem: string } {
  const podName = pod.metadata?.name ?? "";
  const chosen = annotations[ANNOTATION_SECRET_NAME];
  const name = chosen ?? defaultSecretName(podName);
  if (name.length > 253 || !DNS_SUBDOMAIN_RE.test(name))
    return { problem: `annotation ${ANNOTATION_SECRET_NAME} "${name.slice(0, 80)}" is not a valid Secret name` };
  const problem =
    chosen === undefined
      ? undefined
      : secretNameProblem(chosen, { name: pod.metadata?.name, generateName: pod.metadata?.generateName });
  return problem ? { problem: `annotation ${ANNOTATION_SECRET_NAME}: ${problem}` } : { name };
}

export function parsePodContract(pod: PodLike, defaultAuthPath: string): PodContract {
  const annotations = pod.metadata?.annotations;
  if (!annotations || typeof annotations !== "object") return { kind: "not-opted-in" };
  const role = annotations[ANNOTATION_ROLE];
  if (role === undefined) return { kind: "not-opted-in" };
  const invalid = (reason: string): PodContract => ({ kind: "invalid", reason });

  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(PREFIX)) continue;
    if (typeof value !== "string") return invalid(`annotation ${key} is not a string`);
    if (Buffer.byteLength(value, "utf8") > MAX_ANNOTATION_BYTES) {
      return invalid(`annotation ${key} is longer than ${MAX_ANNOTATION_BYTES} bytes`);
    }
    if (value.includes("\uFFFD") || /[\u0000-\u001f\u007f]/.test(value)) {
      return invalid(`annotation ${key} contains invalid UTF-8 or control characters`);
    }
  }
  if (!ROLE_RE.test(role)) return invalid(`annotation ${ANNOTATION_ROLE} must match ${ROLE_RE.source}`);

  const authPath = (annotations[ANNOTATION_AUTH_PATH] ?? defaultAuthPath).replace(/^auth\//, "").replace(/\/+$/, "");
  if (!AUTH_PATH_RE.test(authPath) || authPath.split("/").includes("..")) {
    return invalid(`annotation ${ANNOTATION_AUTH_PATH} is not a valid auth mount path`);
  }

  const named = podSecretName(pod, annotations);
  if ("problem" in named) return invalid(named.problem);
  const secretName = named.name;

  const secrets: SecretRequest[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(ANNOTATION_SECRET_PREFIX) || key === ANNOTATION_SECRET_NAME) continue;
    const file = key.slice(ANNOTATION_SECRET_PREFIX.length);
    if (!FILE_RE.test(file) || file === "." || file === "..") {
      return invalid(`annotation ${key}: "${file.slice(0, 80)}" is not a valid file name`);
    }
    const problem = vaultPathProblem(value);
    if (problem) return invalid(`annotation ${key}: ${problem}`);
    secrets.push({ file, path: value.replace(/^\/+/, "") });
  }
  if (secrets.length === 0) return invalid(`no ${ANNOTATION_SECRET_PREFIX}<file> annotation names a Vault path`);
  if (secrets.length > MAX_SECRETS)
    return invalid(`${secrets.length} secrets requested; at most ${MAX_SECRETS} per pod`);
  secrets.sort((a, b) => a.file.localeCompare(b.file));
  return { kind: "request", request: { role, authPath, secretName, secrets } };
}

export function vaultPathProblem(path: string): string | undefined {
  if (path.length === 0) return "the Vault path is empty";
  if (path.length > 512) return "the Vault path is longer than 512 characters";
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return `"${path.slice(0, 80)}" is a URL, not a Vault path`;
  if (path.startsWith("/"))
    return `"${path.slice(0, 80)}" is absolute; give a path relative to the Vault API, e.g. database/creds/role`;
  if (path.split("/").some((segment) => segment === ".." || segment === "."))
    return `"${path.slice(0, 80)}" contains a relative segment`;
  if (path.startsWith("sys/") || path.startsWith("auth/")) return `"${path.slice(0, 80)}" is not a secret path`;
  if (!VAULT_PATH_RE.test(path)) return `"${path.slice(0, 80)}" has characters a Vault path cannot have`;
  return undefined;
}
