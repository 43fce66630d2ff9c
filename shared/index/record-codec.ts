import { LeaseRecordSchema, PodRecordSchema, RetiringSchema, type PodRecord } from "./pod-record.ts";

/**
 * Compact storage of pod records: JSON arrays in the schema's field order instead of objects,
 * and values that follow from others left out (the default Secret name, a lease's path when its
 * id starts with it, the renew job id's sequence number), which keeps the index near 550 bytes
 * per pod instead of ~1 KiB. Decoding validates with the same zod schema, so a record written
 * by an older field order fails loudly, not silently.
 */
const POD_KEYS = Object.keys(PodRecordSchema.shape) as (keyof PodRecord)[];
const LEASE_KEYS = Object.keys(LeaseRecordSchema.shape);
const RETIRING_KEYS = Object.keys(RetiringSchema.shape);
const FORMAT = 2;
const RENEW_SEQ_SLOT = 1 + POD_KEYS.indexOf("renewSeq");
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

export function encodeRecord(record: PodRecord): string {
  const renewJobId = record.renewJobId;
  const flat = pack(POD_KEYS, {
    ...record,
    secretName: record.secretName === defaultSecretName(record.name) ? undefined : record.secretName,
    renewJobId:
      renewJobId?.startsWith(renewPrefix(record.uid)) && /^\d+$/.test(renewJobId.slice(renewPrefix(record.uid).length))
        ? Number(renewJobId.slice(renewPrefix(record.uid).length))
        : renewJobId,
    nextRenewAt: record.nextRenewAt === undefined ? undefined : Math.round(record.nextRenewAt),
    leases: record.leases.map((l) =>
      pack(LEASE_KEYS, { ...l, path: l.id.slice(0, l.id.lastIndexOf("/")) === l.path ? undefined : l.path }),
    ),
    retiring: record.retiring.map((r) => pack(RETIRING_KEYS, r)),
  });
  return JSON.stringify([FORMAT, ...flat]);
}

export function decodeRecord(raw: string): PodRecord {
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || parsed[0] !== FORMAT) throw new Error("pod index: record in an unknown format");
  const fields = unpack(POD_KEYS, parsed.slice(1));
  fields.leases = ((fields.leases as unknown[][] | undefined) ?? []).map((packed) => {
    const lease = unpack(LEASE_KEYS, packed);
    if (lease.path === undefined && typeof lease.id === "string")
      lease.path = lease.id.slice(0, lease.id.lastIndexOf("/"));
    return lease;
  });
  if (fields.secretName === undefined && typeof fields.name === "string")
    fields.secretName = defaultSecretName(fields.name);
  // Written before renewSeq existed (no slot for it): the renew job id's sequence number is it.
  if (parsed.length <= RENEW_SEQ_SLOT && typeof fields.renewJobId === "number") fields.renewSeq = fields.renewJobId;
  if (typeof fields.renewJobId === "number" && typeof fields.uid === "string")
    fields.renewJobId = `${renewPrefix(fields.uid)}${fields.renewJobId}`;
  fields.retiring = ((fields.retiring as unknown[][] | undefined) ?? []).map((r) => unpack(RETIRING_KEYS, r));
  return PodRecordSchema.parse(fields);
}
