import { LeaseRecordSchema, PodRecordSchema, RetiringSchema, type PodRecord } from "./pod-record.ts";

/**
 * Compact storage of pod records: JSON arrays in the schema's field order instead of objects,
 * and values that follow from others left out (the default Secret name, a lease's path when its
 * id starts with it, the renew job id's sequence number). Format 3 also leaves out the pod UID
 * (the Redis key names it) and writes every time but `issuedAt` as whole milliseconds after
 * `issuedAt` (7 digits instead of 13), which keeps a record near 430 bytes (format 2: ~500,
 * objects: ~1 KiB). Format 2 records still decode. Decoding validates with the same zod schema,
 * so a record written by an older field order fails loudly, not silently.
 */
const POD_KEYS = Object.keys(PodRecordSchema.shape) as (keyof PodRecord)[];
const LEASE_KEYS = Object.keys(LeaseRecordSchema.shape);
const RETIRING_KEYS = Object.keys(RetiringSchema.shape);
const FORMAT = 3;
/** Format 2: every field, the UID first, absolute times. */
const FORMAT_2 = 2;
const RENEW_SEQ_SLOT = 1 + POD_KEYS.indexOf("renewSeq");
const STORED_KEYS = POD_KEYS.filter((k) => k !== "uid");
const POD_TIMES = ["tokenExpiresAt", "nextRenewAt", "renewedAt", "leaseRenewAt"] as const;
const LEASE_TIMES = ["expiresAt", "refreshAt"] as const;
const defaultSecretName = (name: string) => `${name}-leasekeeper`;
const renewPrefix = (uid: string) => `renew-${uid}-`;

const pack = (keys: readonly string[], value: Record<string, unknown>) =>
  keys.map((k) => (value[k] === undefined ? null : value[k]));
const unpack = (keys: readonly string[], values: unknown[]) => {
  const out: Record<string, unknown> = {};
  keys.forEach((k, i) => {
    if (values[i] !== null && values[i] !== undefined) out[k] = values[i];
  });
  return out;
};

/** A time as whole milliseconds after `base` (lossless to the millisecond). */
const since = (base: number, t: number | undefined) => (t === undefined ? undefined : Math.round(t - base));
const at = (base: number, delta: unknown) => (typeof delta === "number" ? base + delta : delta);
function relative<T extends Record<string, unknown>>(
  value: T,
  keys: readonly string[],
  base: number,
  op: typeof since | typeof at,
): T {
  const out: Record<string, unknown> = { ...value };
  for (const k of keys) if (out[k] !== undefined && out[k] !== null) out[k] = op(base, out[k] as number);
  return out as T;
}

export function encodeRecord(record: PodRecord): string {
  const renewJobId = record.renewJobId;
  const base = record.issuedAt;
  const flat = pack(STORED_KEYS, {
    ...relative(record, POD_TIMES, base, since),
    secretName: record.secretName === defaultSecretName(record.name) ? undefined : record.secretName,
    renewJobId:
      renewJobId?.startsWith(renewPrefix(record.uid)) && /^\d+$/.test(renewJobId.slice(renewPrefix(record.uid).length))
        ? Number(renewJobId.slice(renewPrefix(record.uid).length))
        : renewJobId,
    leases: record.leases.map((l) =>
      pack(LEASE_KEYS, {
        ...relative(l, LEASE_TIMES, base, since),
        path: l.id.slice(0, l.id.lastIndexOf("/")) === l.path ? undefined : l.path,
      }),
    ),
    retiring: record.retiring.map((r) => pack(RETIRING_KEYS, { ...r, revokeAt: since(base, r.revokeAt) })),
  });
  return JSON.stringify([FORMAT, ...flat]);
}

/** `uid`: the pod UID the record is stored under (format 3 records do not repeat it). */
export function decodeRecord(raw: string, uid: string): PodRecord {
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || (parsed[0] !== FORMAT && parsed[0] !== FORMAT_2))
    throw new Error("pod index: record in an unknown format");
  const v2 = parsed[0] === FORMAT_2;
  const fields = v2 ? unpack(POD_KEYS, parsed.slice(1)) : { uid, ...unpack(STORED_KEYS, parsed.slice(1)) };
  const base = typeof fields.issuedAt === "number" ? fields.issuedAt : 0;
  const times = (value: Record<string, unknown>, keys: readonly string[]) =>
    v2 ? value : relative(value, keys, base, at);
  Object.assign(fields, times(fields, POD_TIMES));
  fields.leases = ((fields.leases as unknown[][] | undefined) ?? []).map((packed) => {
    const lease = times(unpack(LEASE_KEYS, packed), LEASE_TIMES);
    if (lease.path === undefined && typeof lease.id === "string")
      lease.path = lease.id.slice(0, lease.id.lastIndexOf("/"));
    return lease;
  });
  if (fields.secretName === undefined && typeof fields.name === "string")
    fields.secretName = defaultSecretName(fields.name);
  // Written before renewSeq existed (no slot for it): the renew job id's sequence number is it.
  if (v2 && parsed.length <= RENEW_SEQ_SLOT && typeof fields.renewJobId === "number")
    fields.renewSeq = fields.renewJobId;
  if (typeof fields.renewJobId === "number" && typeof fields.uid === "string")
    fields.renewJobId = `${renewPrefix(fields.uid)}${fields.renewJobId}`;
  fields.retiring = ((fields.retiring as unknown[][] | undefined) ?? []).map((r) =>
    times(unpack(RETIRING_KEYS, r), ["revokeAt"]),
  );
  return PodRecordSchema.parse(fields);
}

/**
 * Where a stored record's namespace and name sit (1-based, as Lua's cjson arrays count), by format:
 * the index drops a record and its namespace-set member in one script without decoding it here.
 */
export const NAME_SLOTS: ReadonlyArray<readonly [format: number, namespace: number, name: number]> = [
  [FORMAT, 2 + STORED_KEYS.indexOf("namespace"), 2 + STORED_KEYS.indexOf("name")],
  [FORMAT_2, 2 + POD_KEYS.indexOf("namespace"), 2 + POD_KEYS.indexOf("name")],
];
