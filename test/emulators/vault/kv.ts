/** The `secret/` mount as KV v2: data read/write/delete, delete/undelete/destroy, metadata. */
import type { Core } from "./core-types.ts";
import type { KvEntry, KvVersion } from "./kv-store.ts";
import { badRequest, emptyError } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optInt, optObject } from "./fields.ts";
import { rfc3339 } from "./durations.ts";
import type { Reply, Route, VaultRequest } from "./types.ts";

const MOUNT = "kv";

function versionMeta(v: KvVersion, version: number, entry: KvEntry) {
  return {
    created_time: rfc3339(v.createdTime),
    custom_metadata: entry.customMetadata,
    deletion_time: v.deletionTime === null ? "" : rfc3339(v.deletionTime),
    destroyed: v.destroyed,
    version,
  };
}

function versionsOf(req: VaultRequest): number[] {
  const v = req.data.versions;
  const list = Array.isArray(v) ? v : typeof v === "string" ? v.split(",") : typeof v === "number" ? [v] : [];
  const out = list.map((x) => Number(x)).filter((n) => Number.isInteger(n) && n > 0);
  if (out.length === 0) throw badRequest("no version number provided");
  return out;
}

export function kvRoutes(core: Core): Route[] {
  const kv = core.kv;
  const read = (req: VaultRequest, m: RegExpExecArray): Reply => {
    const entry = kv.entries.get(m[1] ?? "");
    const wanted = optInt(req.data, "version") ?? 0;
    const version = wanted === 0 ? (entry?.currentVersion ?? 0) : wanted;
    const v = entry?.versions.get(version);
    if (!entry || !v) throw emptyError(404);
    const meta = versionMeta(v, version, entry);
    const deleted = v.destroyed || (v.deletionTime !== null && v.deletionTime <= core.clock.now());
    if (deleted) return logical({ status: 404, data: { data: null, metadata: meta }, mountType: "" });
    return logical({ data: { data: v.data, metadata: meta }, mountType: MOUNT });
  };
  const write = (req: VaultRequest, m: RegExpExecArray): Reply => {
    const data = optObject(req.data, "data");
    if (data === undefined) throw badRequest("no data provided");
    const path = m[1] ?? "";
    const cas = optInt(optObject(req.data, "options") ?? {}, "cas");
    const current = kv.entries.get(path)?.currentVersion ?? 0;
    if (cas !== undefined && cas !== current)
      throw badRequest("check-and-set parameter did not match the current version");
    const { entry, version } = kv.write(path, data, core.clock.now());
    const v = entry.versions.get(version) as KvVersion;
    const { created_time, custom_metadata, deletion_time, destroyed } = versionMeta(v, version, entry);
    return logical({ data: { created_time, custom_metadata, deletion_time, destroyed, version }, mountType: MOUNT });
  };
  const mark = (versions: number[], path: string, fn: (v: KvVersion) => void): Reply => {
    const entry = kv.entries.get(path);
    for (const n of versions) {
      const v = entry?.versions.get(n);
      if (v) fn(v);
    }
    return emptyReply();
  };
  const now = () => core.clock.now();
  const metadata = (_req: VaultRequest, m: RegExpExecArray): Reply => {
    const entry = kv.entries.get(m[1] ?? "");
    if (!entry) throw emptyError(404);
    const versions: Record<string, unknown> = {};
    for (const [n, v] of entry.versions) {
      versions[String(n)] = {
        created_time: rfc3339(v.createdTime),
        deletion_time: v.deletionTime === null ? "" : rfc3339(v.deletionTime),
        destroyed: v.destroyed,
      };
    }
    const data = {
      cas_required: false,
      created_time: rfc3339(entry.createdTime),
      current_version: entry.currentVersion,
      custom_metadata: entry.customMetadata,
      delete_version_after: "0s",
      max_versions: 0,
      oldest_version: entry.oldestVersion,
      updated_time: rfc3339(entry.updatedTime),
      versions,
    };
    return logical({ data, mountType: MOUNT });
  };
  const list = (_req: VaultRequest, m: RegExpExecArray): Reply => {
    const keys = kv.list(m[1] ?? "");
    if (keys.length === 0) throw emptyError(404);
    return logical({ data: { keys }, mountType: MOUNT });
  };
  return [
    {
      pattern: /^secret\/data\/(.+)$/,
      ops: {
        read,
        update: write,
        delete: (_req, m) => {
          const entry = kv.entries.get(m[1] ?? "");
          return mark(entry ? [entry.currentVersion] : [], m[1] ?? "", (v) => (v.deletionTime = now()));
        },
      },
    },
    {
      pattern: /^secret\/delete\/(.+)$/,
      ops: { update: (req, m) => mark(versionsOf(req), m[1] ?? "", (v) => (v.deletionTime = now())) },
    },
    {
      pattern: /^secret\/undelete\/(.+)$/,
      ops: { update: (req, m) => mark(versionsOf(req), m[1] ?? "", (v) => (v.deletionTime = null)) },
    },
    {
      pattern: /^secret\/destroy\/(.+)$/,
      ops: { update: (req, m) => mark(versionsOf(req), m[1] ?? "", (v) => ((v.destroyed = true), (v.data = null))) },
    },
    { pattern: /^secret\/metadata\/(.*\/)?$/, ops: { list } },
    {
      pattern: /^secret\/metadata\/(.+)$/,
      ops: { read: metadata, delete: (_req, m) => (kv.entries.delete(m[1] ?? ""), emptyReply()) },
    },
  ];
}
