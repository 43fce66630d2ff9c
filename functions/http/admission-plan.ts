/**
 * What the mutating webhook does to a pod being created: for an opted-in pod, a random
 * per-pod Secret name, Secret volume(s) projecting only the credential files (mode 0440 unless
 * asked otherwise) and read-only mounts in the containers that ask. Never adds a container.
 * Pure: the route turns the decision into an AdmissionReview response.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { assignedSecretName, looksAssigned } from "../../shared/pods/secret-name.ts";
import {
  DEFAULT_MOUNT_PATH,
  V,
  parseInjectorAnnotations,
  wantsInjection,
  type InjectionPlan,
  type InjectorSettings,
} from "../../shared/pods/injector-annotations.ts";
import { ANNOTATION_ROLE, ANNOTATION_SECRET_NAME, PREFIX, parsePodContract } from "../../shared/pods/pod-contract.ts";

export const VOLUME_NAME = "leasekeeper-secrets";
export const DEFAULT_MODE = 0o440;
const ANNOTATION_MOUNT_PATH = `${PREFIX}mount-path`;
const ANNOTATION_CONTAINERS = `${PREFIX}containers`;

export interface JsonPatchOp {
  readonly op: "add";
  readonly path: string;
  readonly value: unknown;
}

export type Admission =
  | { readonly kind: "pass"; readonly why: string }
  | { readonly kind: "deny"; readonly message: string }
  | { readonly kind: "patch"; readonly ops: JsonPatchOp[]; readonly secretName: string; readonly warnings: string[] };

export interface AdmissionSettings extends InjectorSettings {
  readonly namespaces: readonly string[];
}

const escape = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/** A Secret name for a pod that may not have a name yet (generateName): its prefix plus randomness. */
export function randomSecretName(pod: V1Pod): string {
  return assignedSecretName({ name: pod.metadata?.name, generateName: pod.metadata?.generateName });
}

export function admitPod(pod: V1Pod, namespace: string, settings: AdmissionSettings): Admission {
  const annotations = pod.metadata?.annotations ?? {};
  if (settings.namespaces.length > 0 && !settings.namespaces.includes(namespace))
    return { kind: "pass", why: "namespace not watched" };
  if ((pod.spec?.volumes ?? []).some((v) => v.name === VOLUME_NAME)) return { kind: "pass", why: "already mutated" };
  const own = annotations[ANNOTATION_ROLE] !== undefined;
  if (!own && !(settings.vaultAnnotations && wantsInjection(annotations))) return { kind: "pass", why: "not opted in" };
  const chosen = annotations[ANNOTATION_SECRET_NAME];
  // The webhook sees each pod once (reinvocationPolicy: Never): a name of its own shape here was written by the user.
  if (chosen !== undefined && looksAssigned(chosen)) {
    return {
      kind: "deny",
      message: `annotation ${ANNOTATION_SECRET_NAME}: names ending in -lk-<10 hex> are assigned by leasekeeper's webhook; leave it unset or choose "<pod name>-…"`,
    };
  }
  // A user-chosen name must carry the pod's own name (the contract check below refuses it otherwise).
  const secretName = chosen ?? randomSecretName(pod);
  const named: V1Pod = {
    ...pod,
    metadata: { ...pod.metadata, annotations: { ...annotations, [ANNOTATION_SECRET_NAME]: secretName } },
  };

  let plan: InjectionPlan;
  let warnings: string[] = [];
  if (own) {
    const contract = parsePodContract(named, settings.defaultAuthPath);
    if (contract.kind === "invalid") return { kind: "deny", message: contract.reason };
    if (contract.kind !== "request") return { kind: "pass", why: "not opted in" };
    const containers = annotations[ANNOTATION_CONTAINERS]?.split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    plan = {
      mounts: [
        {
          mountPath: (annotations[ANNOTATION_MOUNT_PATH] ?? DEFAULT_MOUNT_PATH).replace(/\/+$/, ""),
          files: contract.request.secrets.map((s) => ({ key: s.file, path: s.file })),
        },
      ],
      containers: containers && containers.length > 0 ? containers : undefined,
    };
  } else {
    const contract = parseInjectorAnnotations(named, settings);
    if (contract.kind === "invalid") return { kind: "deny", message: contract.reason };
    if (contract.kind !== "request") return { kind: "pass", why: "not opted in" };
    plan = contract.plan;
    if (contract.ignored.length > 0)
      warnings = [
        `leasekeeper ignores ${contract.ignored.join(", ")}: they configure the Vault Agent sidecar, which leasekeeper does not add`,
      ];
  }
  return buildPatch(pod, plan, { secretName, own, warnings });
}

/** `own`: the pod uses leasekeeper's annotations (not the Vault Agent Injector's). */
function buildPatch(
  pod: V1Pod,
  plan: InjectionPlan,
  into: { readonly secretName: string; readonly own: boolean; readonly warnings: string[] },
): Admission {
  const { secretName, own, warnings } = into;
  const ops: JsonPatchOp[] = [];
  if (pod.metadata?.annotations) {
    ops.push({ op: "add", path: `/metadata/annotations/${escape(ANNOTATION_SECRET_NAME)}`, value: secretName });
    // A Vault Agent Injector later in the chain must leave this pod alone.
    if (!own) ops.push({ op: "add", path: `/metadata/annotations/${escape(V.status)}`, value: "injected" });
  }
  const volumes = plan.mounts.map((m, i) => ({
    name: i === 0 ? VOLUME_NAME : `${VOLUME_NAME}-${i}`,
    mountPath: m.mountPath,
    volume: {
      name: i === 0 ? VOLUME_NAME : `${VOLUME_NAME}-${i}`,
      secret: {
        secretName,
        defaultMode: DEFAULT_MODE,
        items: m.files.map((f) =>
          f.mode === undefined ? { key: f.key, path: f.path } : { key: f.key, path: f.path, mode: f.mode },
        ),
      },
    },
  }));
  if (pod.spec?.volumes === undefined)
    ops.push({ op: "add", path: "/spec/volumes", value: volumes.map((v) => v.volume) });
  else for (const v of volumes) ops.push({ op: "add", path: "/spec/volumes/-", value: v.volume });

  const containers = pod.spec?.containers ?? [];
  for (const wanted of plan.containers ?? []) {
    if (!containers.some((c) => c.name === wanted))
      return {
        kind: "deny",
        message: `annotation ${own ? ANNOTATION_CONTAINERS : V.containers} names container "${wanted}", which the pod does not have`,
      };
  }
  for (const [i, c] of containers.entries()) {
    if (plan.containers && !plan.containers.includes(c.name)) continue;
    const mounts = volumes.map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: true }));
    const clash = (c.volumeMounts ?? []).find((m) =>
      mounts.some((n) => n.mountPath === m.mountPath.replace(/\/+$/, "")),
    );
    if (clash)
      return {
        kind: "deny",
        message: `container "${c.name}" already mounts volume "${clash.name}" at ${clash.mountPath}, where leasekeeper mounts the credentials`,
      };
    if (c.volumeMounts === undefined)
      ops.push({ op: "add", path: `/spec/containers/${i}/volumeMounts`, value: mounts });
    else for (const m of mounts) ops.push({ op: "add", path: `/spec/containers/${i}/volumeMounts/-`, value: m });
  }
  return { kind: "patch", ops, secretName, warnings };
}
