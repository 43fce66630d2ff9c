/** meta.k8s.io/v1 Table output for kubectl `get` (Accept: ...;as=Table). */
import type { ResourceDef } from "./resources.ts";
import type { Json, KubeObject } from "./types.ts";

export function wantsTable(accept: string): boolean {
  return /as=Table/.test(accept);
}

function age(obj: KubeObject): string {
  const created = Date.parse(obj.metadata.creationTimestamp ?? "");
  if (Number.isNaN(created)) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - created) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

interface Column {
  name: string;
  type: string;
  cell: (o: KubeObject) => string | number;
}

function columns(r: ResourceDef): Column[] {
  const name: Column = { name: "Name", type: "string", cell: (o) => o.metadata.name ?? "" };
  const ageCol: Column = { name: "Age", type: "string", cell: age };
  if (r.plural === "pods") {
    return [name,
      { name: "Ready", type: "string", cell: (o) => { const cs: Json[] = o.status?.containerStatuses ?? []; return `${cs.filter((c) => c.ready === true).length}/${(o.spec?.containers ?? []).length}`; } },
      { name: "Status", type: "string", cell: (o) => (o.metadata.deletionTimestamp !== undefined ? "Terminating" : o.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? o.status?.phase ?? "") },
      { name: "Restarts", type: "string", cell: () => "0" },
      ageCol];
  }
  if (r.plural === "secrets") {
    return [name, { name: "Type", type: "string", cell: (o) => o.type ?? "" },
      { name: "Data", type: "string", cell: (o) => Object.keys(o.data ?? {}).length }, ageCol];
  }
  return [name, ageCol];
}

export function toTable(r: ResourceDef, items: KubeObject[], metadata: Json, includeObject: string | null): Json {
  const cols = columns(r);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: cols.map((c, i) => ({ name: c.name, type: c.type, format: i === 0 ? "name" : "", description: c.name, priority: 0 })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object: includeObject === "Object" ? o : includeObject === "None" ? undefined : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
