/** Maps a request path to a resource request (group, version, namespace, resource, name, subresource). */
import { findResource, type ResourceDef } from "./resources.ts";
import { notFoundPath } from "./status.ts";

export interface ResourceRoute {
  resource: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** True for the deprecated /watch/ path prefix. */
  legacyWatch: boolean;
}

/** Returns undefined when the path is not an API resource path (discovery etc.); throws 404 for unknown resources. */
export function parseResourcePath(pathname: string): ResourceRoute | undefined {
  const parts = pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1] ?? "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1] ?? "";
    version = parts[2] ?? "";
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let legacyWatch = false;
  if (rest[0] === "watch") {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{resource}... — but namespaces/{name}[/status|finalize] is the namespace itself.
  if (
    rest[0] === "namespaces" &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === "status" || rest[2] === "finalize") && group === "")
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) throw notFoundPath();
  const resource = findResource(group, version, plural);
  if (resource === undefined) throw notFoundPath();
  if (namespace !== undefined && !resource.namespaced) throw notFoundPath();
  if (subresource !== undefined && !resource.subresources.includes(subresource)) throw notFoundPath();
  const route: ResourceRoute = { resource, legacyWatch };
  if (namespace !== undefined) route.namespace = namespace;
  if (name !== undefined) route.name = name;
  if (subresource !== undefined) route.subresource = subresource;
  return route;
}
