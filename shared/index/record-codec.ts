import { LeaseRecordSchema, PodRecordSchema, RetiringSchema, type PodRecord } from "./pod-record.ts";

/**
 * Compact storage of pod records: JSON arrays in the schema's field order instead of objects,
 * which keeps the index near 600 bytes per pod instead of ~1 KiB. Decoding validates with the
 * same zod schema, so a record written by an older field order fails loudly, not silently.
 */
const POD_KEYS = Object.keys(PodRecordSchema.shape) as (keyof PodRecord)[];
const LEASE_KEYS = Object.keys(LeaseRecordSchema.shape);
const RETIRING_KEYS = Object.keys(RetiringSchema.shape);
const FORMAT = 1;

const pack = (keys: readonly string[], value: Record<string, unknown>) => keys.map((k) => (value[k] === undefined ? null : value[k]));
const unpack = (keys: readonly string[], values: unknown[]) => {
  const out: Record<string, unknown> = {};
  keys.forEach((k, i) => {
    if (values[i] !== null && values[i] !== undefined) out[k] = values[i];
  });
  return out;
};

export function encodeRecord(record: PodRecord): string {
  const flat = pack(POD_KEYS, {
    ...record,
    nextRenewAt: record.nextRenewAt === undefined ? undefined : Math.round(record.nextRenewAt),
    leases: record.leases.map((l) => pack(LEASE_KEYS, l)),
    retiring: record.retiring.map((r) => pack(RETIRING_KEYS, r)),
  });
  return JSON.stringify([FORMAT, ...flat]);
}

export function decodeRecord(raw: string): PodRecord {
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || parsed[0] !== FORMAT) throw new Error("pod index: record in an unknown format");
  const fields = unpack(POD_KEYS, parsed.slice(1));
  fields.leases = ((fields.leases as unknown[][] | undefined) ?? []).map((l) => unpack(LEASE_KEYS, l));
  fields.retiring = ((fields.retiring as unknown[][] | undefined) ?? []).map((r) => unpack(RETIRING_KEYS, r));
  return PodRecordSchema.parse(fields);
}
