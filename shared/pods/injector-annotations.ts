/**
 * The Vault Agent Injector's `vault.hashicorp.com/*` annotations, read as a leasekeeper pod
 * request: each `agent-inject-secret-<name>` becomes one file rendered from its template (or
 * the injector's default template). Parsing never throws; what leasekeeper cannot honour
 * faithfully is refused with a reason naming the annotation.
 */
import { parseTemplate } from "../templates/parser.ts";
import { parseGoDurationSeconds } from "../templates/go-duration.ts";
import { isTemplateError } from "../templates/template-error.ts";
import {
  ANNOTATION_SECRET_NAME,
  AUTH_PATH_RE,
  MAX_SECRETS,
  ROLE_RE,
  podSecretName,
  vaultPathProblem,
  type PodLike,
  type PodRequest,
  type SecretRequest,
} from "./pod-contract.ts";
import { IGNORED_EXACT, IGNORED_PREFIXES, REFUSED } from "./injector-catalog.ts";

export const VAULT_PREFIX = "vault.hashicorp.com/";
export const V = {
  inject: `${VAULT_PREFIX}agent-inject`,
  status: `${VAULT_PREFIX}agent-inject-status`,
  role: `${VAULT_PREFIX}role`,
  authPath: `${VAULT_PREFIX}auth-path`,
  namespace: `${VAULT_PREFIX}namespace`,
  secret: `${VAULT_PREFIX}agent-inject-secret-`,
  template: `${VAULT_PREFIX}agent-inject-template-`,
  file: `${VAULT_PREFIX}agent-inject-file-`,
  perms: `${VAULT_PREFIX}agent-inject-perms-`,
  volumePath: `${VAULT_PREFIX}secret-volume-path`,
  defaultTemplate: `${VAULT_PREFIX}agent-inject-default-template`,
  preserveCase: `${VAULT_PREFIX}preserve-secret-case`,
  staticInterval: `${VAULT_PREFIX}template-static-secret-render-interval`,
  containers: `${VAULT_PREFIX}agent-inject-containers`,
  prePopulateOnly: `${VAULT_PREFIX}agent-pre-populate-only`,
  prePopulate: `${VAULT_PREFIX}agent-pre-populate`,
} as const;

export const DEFAULT_MOUNT_PATH = "/vault/secrets";
/** What the injector renders for a secret without a template (vault-k8s agent config). */
export const DEFAULT_MAP_TEMPLATE = (path: string) =>
  `{{ with secret "${path}" }}{{ range $k, $v := .Data }}{{ $k }}: {{ $v }}\n{{ end }}{{ end }}`;
export const DEFAULT_JSON_TEMPLATE = (path: string) => `{{ with secret "${path}" }}{{ .Data | toJSON }}\n{{ end }}`;

export interface InjectorSettings {
  readonly defaultAuthPath: string;
  /** Act on vault.hashicorp.com/* at all (LEASEKEEPER_VAULT_ANNOTATIONS). */
  readonly vaultAnnotations: boolean;
  readonly staticSecretRenderIntervalSeconds: number;
}

/** One file of the Secret volume: data key, path under the mount, optional mode. */
export interface PlannedFile {
  readonly key: string;
  readonly path: string;
  readonly mode?: number;
}

/** Where the webhook mounts what: one Secret volume per distinct mount path. */
export interface InjectionPlan {
  readonly mounts: ReadonlyArray<{ readonly mountPath: string; readonly files: readonly PlannedFile[] }>;
  /** Containers that get the mounts; undefined means every app container. */
  readonly containers: readonly string[] | undefined;
}

export type InjectorContract =
  | { readonly kind: "not-opted-in" }
  | { readonly kind: "invalid"; readonly reason: string }
  | {
      readonly kind: "request";
      readonly request: PodRequest;
      readonly plan: InjectionPlan;
      readonly ignored: readonly string[];
    };

const MAX_VALUE_BYTES = 64 * 1024;
const FILE_PATH_RE = /^[-._a-zA-Z0-9]+(\/[-._a-zA-Z0-9]+)*$/;
const MOUNT_PATH_RE = /^\/[-._a-zA-Z0-9]+(\/[-._a-zA-Z0-9]+)*$/;

/** strconv.ParseBool, as the injector reads its boolean annotations. */
export function parseGoBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

/**
 * True when the pod asks the injector for secrets and no other injector has handled it: a pod
 * marked `agent-inject-status: injected` without leasekeeper's Secret name was injected by
 * the real Vault Agent Injector and is left alone.
 */
export function wantsInjection(annotations: Record<string, string> | undefined): boolean {
  if (!annotations) return false;
  if (parseGoBool(annotations[V.inject]) !== true) return false;
  return !(annotations[V.status] === "injected" && annotations[ANNOTATION_SECRET_NAME] === undefined);
}

/** How many Vault reads a template makes; a string says why it is refused (`where`: the annotation it came from). */
function checkTemplate(template: string, where: string): number | string {
  try {
    const parsed = parseTemplate(template);
    for (const call of parsed.secretCalls) {
      const problem = vaultPathProblem(call.path);
      if (problem) return `annotation ${where}: line ${call.line}: secret ${problem}`;
    }
    return parsed.secretCalls.length;
  } catch (err) {
    if (isTemplateError(err)) return `annotation ${where}: ${err.message}`;
    throw err;
  }
}

/** Where one secret's file goes (file name, mount directory, mode); a string says why that is refused. */
function placement(
  a: Record<string, string>,
  raw: string,
  name: string,
  globalMount: string,
): { filePath: string; mountPath: string; mode: number | undefined } | string {
  const filePath = (a[`${V.file}${raw}`] ?? name).replace(/^\/+/, "");
  if (!FILE_PATH_RE.test(filePath) || filePath.split("/").some((s) => s === "." || s === "..")) {
    return `annotation ${V.file}${raw}: "${filePath.slice(0, 80)}" is not a relative file path`;
  }
  const mountPath = (a[`${V.volumePath}-${raw}`] ?? globalMount).replace(/\/+$/, "");
  if (!MOUNT_PATH_RE.test(mountPath) || mountPath.split("/").some((s) => s === "." || s === "..")) {
    return `annotation ${a[`${V.volumePath}-${raw}`] !== undefined ? `${V.volumePath}-${raw}` : V.volumePath}: "${mountPath.slice(0, 80)}" is not an absolute directory path`;
  }
  const permsText = a[`${V.perms}${raw}`];
  const mode = permsText === undefined ? undefined : /^0?[0-7]{3}$/.test(permsText) ? parseInt(permsText, 8) : NaN;
  if (mode !== undefined && Number.isNaN(mode))
    return `annotation ${V.perms}${raw}: "${permsText}" is not an octal file mode such as 0440`;
  return { filePath, mountPath, mode };
}

export function parseInjectorAnnotations(pod: PodLike, settings: InjectorSettings): InjectorContract {
  const a = pod.metadata?.annotations;
  if (!settings.vaultAnnotations || !wantsInjection(a ?? undefined) || !a) return { kind: "not-opted-in" };
  const invalid = (reason: string): InjectorContract => ({ kind: "invalid", reason });
  const ignored: string[] = [];

  for (const [key, value] of Object.entries(a)) {
    if (!key.startsWith(VAULT_PREFIX)) continue;
    if (typeof value !== "string") return invalid(`annotation ${key} is not a string`);
    if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES)
      return invalid(`annotation ${key} is longer than ${MAX_VALUE_BYTES} bytes`);
    const refused = REFUSED.find((r) => (r.prefix ? key.startsWith(r.key) : key === r.key) && r.applies(value));
    if (refused) return invalid(`annotation ${key}: ${refused.why}`);
    if (IGNORED_EXACT.has(key) || IGNORED_PREFIXES.some((p) => key.startsWith(p))) ignored.push(key);
  }

  const role = a[V.role];
  if (role === undefined || role === "")
    return invalid(`annotation ${V.role} is required (the Vault Kubernetes-auth role to log in as)`);
  if (!ROLE_RE.test(role)) return invalid(`annotation ${V.role} must match ${ROLE_RE.source}`);
  const authPath = (a[V.authPath] ?? settings.defaultAuthPath)
    .replace(/^\/+/, "")
    .replace(/^auth\//, "")
    .replace(/\/+$/, "");
  if (!AUTH_PATH_RE.test(authPath) || authPath.split("/").includes(".."))
    return invalid(`annotation ${V.authPath} is not a valid auth mount path`);

  const named = podSecretName(pod, a);
  if ("problem" in named) return invalid(named.problem);
  const secretName = named.name;
  const intervalText = a[V.staticInterval];
  const interval =
    intervalText === undefined || intervalText === ""
      ? settings.staticSecretRenderIntervalSeconds
      : parseGoDurationSeconds(intervalText);
  if (interval === undefined || interval < 1)
    return invalid(
      `annotation ${V.staticInterval}: "${intervalText ?? ""}" is not a Go duration of at least 1s (e.g. 5m)`,
    );
  const defaultType = a[V.defaultTemplate] ?? "map";
  if (defaultType !== "map" && defaultType !== "json")
    return invalid(`annotation ${V.defaultTemplate}: "${defaultType}" is neither map nor json`);
  const globalMount = a[V.volumePath] ?? DEFAULT_MOUNT_PATH;

  const secrets: SecretRequest[] = [];
  const mounts = new Map<string, PlannedFile[]>();
  const keys = new Set<string>();
  let calls = 0;
  for (const [key, path] of Object.entries(a)) {
    if (!key.startsWith(V.secret)) continue;
    const raw = key.slice(V.secret.length);
    if (raw === "") continue;
    const preserve = parseGoBool(a[`${V.preserveCase}-${raw}`] ?? a[V.preserveCase]) === true;
    const name = preserve ? raw : raw.toLowerCase();
    if (keys.has(name)) return invalid(`annotation ${key}: another secret already uses the name "${name}"`);
    keys.add(name);
    const templateKey = `${V.template}${raw}`;
    const custom = a[templateKey];
    let template: string;
    if (custom !== undefined && custom !== "") {
      template = custom;
    } else {
      const problem = vaultPathProblem(path);
      if (problem) return invalid(`annotation ${key}: ${problem}`);
      template = defaultType === "json" ? DEFAULT_JSON_TEMPLATE(path) : DEFAULT_MAP_TEMPLATE(path);
    }
    const checked = checkTemplate(template, custom ? templateKey : key);
    if (typeof checked === "string") return invalid(checked);
    calls += checked;
    const placed = placement(a, raw, name, globalMount);
    if (typeof placed === "string") return invalid(placed);
    const { filePath, mountPath, mode } = placed;
    secrets.push({ file: name, path, template, mountPath, filePath });
    const files = mounts.get(mountPath) ?? [];
    if (files.some((f) => f.path === filePath))
      return invalid(`annotation ${V.file}${raw}: two secrets write ${mountPath}/${filePath}`);
    files.push(mode === undefined ? { key: name, path: filePath } : { key: name, path: filePath, mode });
    mounts.set(mountPath, files);
  }
  if (secrets.length === 0) return invalid(`no ${V.secret}<name> annotation names a secret`);
  if (secrets.length > MAX_SECRETS || calls > MAX_SECRETS * 2)
    return invalid(`too many secrets requested; at most ${MAX_SECRETS} files per pod`);
  secrets.sort((x, y) => x.file.localeCompare(y.file));
  const containerList = a[V.containers];
  const containers =
    containerList === undefined || containerList.trim() === ""
      ? undefined
      : containerList
          .split(",")
          .map((c) => c.trim())
          .filter(Boolean);
  return {
    kind: "request",
    request: { role, authPath, secretName, secrets, staticRefreshSeconds: interval },
    plan: {
      mounts: [...mounts].map(([mountPath, files]) => ({
        mountPath,
        files: files.sort((x, y) => x.path.localeCompare(y.path)),
      })),
      containers,
    },
    ignored: ignored.sort(),
  };
}
