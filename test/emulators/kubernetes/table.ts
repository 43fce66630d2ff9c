/** meta.k8s.io/v1 Table output for kubectl `get` (Accept: ...;as=Table), columns from table-columns.ts. */
import type { ResourceDef } from "./resources.ts";
import { columnsFor } from "./table-columns.ts";
import type { Json, KubeObject } from "./types.ts";

export function wantsTable(accept: string): boolean {
  return /as=Table/.test(accept);
}

export function toTable(r: ResourceDef, items: KubeObject[], metadata: Json, includeObject: string | null): Json {
  const cols = columnsFor(r.key);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.name === "Name" ? "name" : "",
      description: c.description,
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o)),
      object:
        includeObject === "Object"
          ? o
          : includeObject === "None"
            ? undefined
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
