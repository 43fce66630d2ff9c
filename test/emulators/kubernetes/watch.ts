/** WATCH streams (spec §1.3–1.6): flushed headers, one JSON event per line, filtered transitions, 410, bookmarks. */
import { readListOptions, parseRv } from "./list-options.ts";
import type { ApiRequest } from "./request.ts";
import { apiVersionOf, type ResourceDef } from "./resources.ts";
import { metadataTarget, metadataWatchObject } from "./partial-metadata.ts";
import { nameFromFieldSelector, type Predicate } from "./selectors.ts";
import { badRequest, expired } from "./status.ts";
import type { ChangeEvent, Json, KubeObject, WatchEventType } from "./types.ts";

interface WireEvent {
  type: WatchEventType;
  object: Json;
}

/** What a watcher with filter `match` sees for one change (spec §1.5). */
export function transition(event: ChangeEvent, match: Predicate): WireEvent | undefined {
  const now = match(event.object);
  if (event.type === "ADDED") return now ? { type: "ADDED", object: event.object } : undefined;
  if (event.type === "DELETED") return now ? { type: "DELETED", object: event.object } : undefined;
  const before = event.old !== undefined && match(event.old);
  if (before && now) return { type: "MODIFIED", object: event.object };
  if (!before && now) return { type: "ADDED", object: event.object };
  if (before && !now && event.old !== undefined) {
    const last: KubeObject = JSON.parse(JSON.stringify(event.old)) as KubeObject;
    last.metadata.resourceVersion = String(event.rv);
    return { type: "DELETED", object: last };
  }
  return undefined;
}

function bookmarkObject(r: ResourceDef, rv: number, initialEnd: boolean): Json {
  const metadata: Json = { resourceVersion: String(rv), creationTimestamp: null };
  if (initialEnd) metadata.annotations = { "k8s.io/initial-events-end": "true" };
  const obj: Json = { kind: r.kind, apiVersion: apiVersionOf(r), metadata };
  if (r.plural === "pods") {
    obj.spec = { containers: null };
    obj.status = {};
  }
  return obj;
}

export function serveWatch(req: ApiRequest): void {
  const { state, res, route } = req;
  const r = route.resource;
  if (route.name !== undefined) {
    const given = nameFromFieldSelector(req.query.get("fieldSelector"));
    if (given !== undefined && given !== route.name)
      throw badRequest("fieldSelector metadata.name doesn't match requested name");
    const existing = req.query.get("fieldSelector");
    req.query.set(
      "fieldSelector",
      existing !== null && existing !== "" ? `${existing},metadata.name=${route.name}` : `metadata.name=${route.name}`,
    );
  }
  const opts = readListOptions(req, true);
  const target = metadataTarget(req.accept);
  const from = opts.resourceVersion === "" || opts.resourceVersion === "0" ? undefined : parseRv(opts.resourceVersion);
  const backlog = from === undefined ? [] : state.store.since(from);
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Transfer-Encoding": "chunked",
    "Cache-Control": "no-cache, private",
  });
  res.flushHeaders();
  const send = (ev: WireEvent): void => {
    res.write(`${JSON.stringify({ type: ev.type, object: metadataWatchObject(target, ev.object) })}\n`);
  };
  if (backlog === undefined) {
    send({
      type: "ERROR",
      object: expired(`too old resource version: ${from ?? 0} (${state.store.oldestWatchableRv()})`).status,
    });
    res.end();
    return;
  }
  const timers: NodeJS.Timeout[] = [];
  let finished = false;
  const entry = {
    res,
    end: (abrupt: boolean): void => {
      if (finished) return;
      finished = true;
      unsubscribe();
      timers.forEach(clearTimeout);
      state.watches.delete(entry);
      if (abrupt) res.destroy();
      else res.end();
    },
    bookmark: (): void => {
      if (opts.allowWatchBookmarks && !finished)
        send({ type: "BOOKMARK", object: bookmarkObject(r, state.store.currentRv(), false) });
    },
  };
  if (from === undefined || opts.sendInitialEvents === true) {
    for (const obj of state.store.list(r.key).filter(opts.match)) send({ type: "ADDED", object: obj });
    if (opts.sendInitialEvents === true && opts.allowWatchBookmarks) {
      send({ type: "BOOKMARK", object: bookmarkObject(r, state.store.currentRv(), true) });
    }
  } else {
    for (const ev of backlog) {
      if (ev.resource !== r.key) continue;
      const wire = transition(ev, opts.match);
      if (wire !== undefined) send(wire);
    }
  }
  const unsubscribe = state.store.subscribe((ev) => {
    if (ev.resource !== r.key || finished) return;
    const wire = transition(ev, opts.match);
    if (wire !== undefined) send(wire);
  });
  state.watches.add(entry);
  const timeoutMs =
    opts.timeoutSeconds !== undefined ? opts.timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
  timers.push(setTimeout(() => entry.end(false), timeoutMs));
  if (opts.allowWatchBookmarks) {
    timers.push(setInterval(entry.bookmark, state.options.bookmarkIntervalMs));
    if (timeoutMs > 2000) timers.push(setTimeout(entry.bookmark, timeoutMs - 2000));
  }
  res.on("close", () => entry.end(false));
}
