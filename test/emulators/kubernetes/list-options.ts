/** List/watch query parameter validation (spec §1.2): 400 for parse errors, 422 on ListOptions. */
import type { ApiRequest } from "./request.ts";
import { parseFieldSelector, parseLabelSelector, type Predicate } from "./selectors.ts";
import { badRequest, forbidden, invalid, notSupported, type FieldError } from "./status.ts";

export interface ListOptions {
  resourceVersion: string;
  resourceVersionMatch: string;
  sendInitialEvents: boolean | undefined;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number | undefined;
  limit: number;
  continueToken: string;
  labelSelector: string;
  fieldSelector: string;
  match: Predicate;
}

const bool = (v: string | null): boolean | undefined => (v === null ? undefined : v === "true" || v === "1");

export function parseRv(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

export function readListOptions(req: ApiRequest, watch: boolean): ListOptions {
  const q = req.query;
  const opts: ListOptions = {
    resourceVersion: q.get("resourceVersion") ?? "",
    resourceVersionMatch: q.get("resourceVersionMatch") ?? "",
    sendInitialEvents: bool(q.get("sendInitialEvents")),
    allowWatchBookmarks: bool(q.get("allowWatchBookmarks")) === true,
    timeoutSeconds: undefined,
    limit: 0,
    continueToken: q.get("continue") ?? "",
    labelSelector: q.get("labelSelector") ?? "",
    fieldSelector: q.get("fieldSelector") ?? "",
    match: () => true,
  };
  const timeout = q.get("timeoutSeconds");
  if (timeout !== null) {
    if (!/^\d+$/.test(timeout)) throw badRequest(`invalid timeoutSeconds: ${JSON.stringify(timeout)}`);
    opts.timeoutSeconds = Number(timeout);
  }
  const limit = q.get("limit");
  if (limit !== null && limit !== "") {
    if (!/^-?\d+$/.test(limit)) throw badRequest(`invalid limit: ${JSON.stringify(limit)}`);
    opts.limit = Math.max(0, Number(limit));
  }
  if (opts.resourceVersion !== "") parseRv(opts.resourceVersion);
  const errors: FieldError[] = [];
  const m = opts.resourceVersionMatch;
  if (m !== "" && m !== "NotOlderThan" && m !== "Exact")
    errors.push(notSupported("resourceVersionMatch", m, ["Exact", "NotOlderThan", ""]));
  if (watch) {
    if (opts.sendInitialEvents !== undefined && m !== "NotOlderThan") {
      errors.push(
        forbidden(
          "sendInitialEvents",
          "sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
        ),
      );
    }
    if (m !== "" && opts.sendInitialEvents === undefined)
      errors.push(
        forbidden(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ),
      );
    if (opts.sendInitialEvents === true && !opts.allowWatchBookmarks) {
      errors.push(
        forbidden("allowWatchBookmarks", "allowWatchBookmarks must be set to true when sendInitialEvents is provided"),
      );
    }
  } else {
    if (opts.sendInitialEvents !== undefined)
      errors.push(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
    if (m !== "" && opts.resourceVersion === "")
      errors.push(
        forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"),
      );
    if (m !== "" && opts.continueToken !== "")
      errors.push(forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"));
    if (m === "Exact" && opts.resourceVersion === "0")
      errors.push(
        forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'),
      );
  }
  if (errors.length > 0) throw invalid("ListOptions", "", errors, "meta.k8s.io");
  const labels = parseLabelSelector(opts.labelSelector);
  const fields = parseFieldSelector(req.route.resource, opts.fieldSelector);
  const ns = req.route.namespace;
  opts.match = (o) => (ns === undefined || o.metadata.namespace === ns) && labels(o) && fields(o);
  return opts;
}
