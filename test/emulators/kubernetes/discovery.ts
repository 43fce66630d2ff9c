/** Legacy discovery (/api, /apis, APIResourceLists), /version and minimal OpenAPI v3 for kubectl (spec §11). */
import { groups, RESOURCES } from "./resources.ts";
import type { Json } from "./types.ts";

/** Subresources whose discovery entry differs from the parent's (as kube-apiserver's /api/v1 and /apis/apps/v1 list them). */
const SUBRESOURCES: Record<string, Json> = {
  token: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] },
  scale: { group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] },
  log: { kind: "Pod", verbs: ["get"] },
  exec: { kind: "PodExecOptions", verbs: ["create", "get"] },
};

function resourceList(group: string, version: string): Json | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: Json[] = [];
  for (const r of defs) {
    const entry: Json = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames !== undefined) entry.shortNames = r.shortNames;
    if (r.categories !== undefined) entry.categories = r.categories;
    resources.push(entry);
    for (const sub of r.subresources) {
      const special = SUBRESOURCES[sub] ?? { kind: r.kind, verbs: ["get", "patch", "update"] };
      resources.push({ name: `${r.plural}/${sub}`, singularName: "", namespaced: r.namespaced, ...special });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}

function groupEntry(name: string, versions: string[]): Json {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

/** OpenAPI v3 document for one group-version: PATCH operations that declare `fieldValidation`. */
function openApiV3(gvPath: string): Json | undefined {
  const defs = RESOURCES.filter(
    (r) => (r.group === "" ? `api/${r.version}` : `apis/${r.group}/${r.version}`) === gvPath && r.virtual !== true,
  );
  if (defs.length === 0) return undefined;
  const paths: Json = {};
  const param = (name: string): Json => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
  for (const r of defs) {
    const base = `/${gvPath}/${r.namespaced ? "namespaces/{namespace}/" : ""}${r.plural}`;
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const op = (action: string): Json => ({
      operationId: `${action}${r.kind}`,
      "x-kubernetes-action": action,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [param("dryRun"), param("fieldManager"), param("fieldValidation")],
      responses: { "200": { description: "OK" } },
    });
    paths[base] = { post: op("post") };
    paths[`${base}/{name}`] = { put: op("put"), patch: op("patch") };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.0" }, paths, components: { schemas: {} } };
}

function gvPaths(): string[] {
  const out = new Set<string>();
  for (const r of RESOURCES) out.add(r.group === "" ? `api/${r.version}` : `apis/${r.group}/${r.version}`);
  return [...out];
}

/** The discovery document for a path, or undefined when it is not a discovery path. */
export function discovery(pathname: string, serverAddress: string): Json | undefined {
  const path = pathname.replace(/\/+$/, "");
  if (path === "/version") {
    return {
      major: "1",
      minor: "32",
      gitVersion: "v1.32.0-emulator",
      gitCommit: "0000000000000000000000000000000000000000",
      gitTreeState: "clean",
      buildDate: "2025-01-01T00:00:00Z",
      goVersion: "go1.23.4",
      compiler: "gc",
      platform: "linux/amd64",
    };
  }
  if (path === "/api")
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
    };
  if (path === "/apis") {
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: [...groups()].map(([name, versions]) => groupEntry(name, versions)),
    };
  }
  if (path === "/openapi/v3") {
    const paths: Json = {};
    for (const p of gvPaths()) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=EMULATOR${p.length}` };
    return { paths };
  }
  if (path.startsWith("/openapi/v3/")) return openApiV3(path.slice("/openapi/v3/".length));
  const core = /^\/api\/([^/]+)$/.exec(path);
  if (core !== null) return resourceList("", core[1] ?? "");
  const grp = /^\/apis\/([^/]+)$/.exec(path);
  if (grp !== null) {
    const versions = groups().get(grp[1] ?? "");
    return versions === undefined
      ? undefined
      : { kind: "APIGroup", apiVersion: "v1", ...groupEntry(grp[1] ?? "", versions) };
  }
  const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (gv !== null) return resourceList(gv[1] ?? "", gv[2] ?? "");
  return undefined;
}
