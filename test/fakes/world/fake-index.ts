/** PodIndex in memory (the same methods as shared/index/pod-index.ts, which needs Redis). */
import type { PodIndex, PutOptions, RevokedMark } from "../../../shared/index/pod-index.ts";
import { PodRecordSchema, type PodRecord } from "../../../shared/index/pod-record.ts";

export class FakeIndex {
  readonly records = new Map<string, PodRecord>();
  readonly marks = new Map<string, RevokedMark>();
  /** Renewal timers written with the records: job id → when it is due. */
  readonly timers = new Map<string, number>();

  async get(uid: string) {
    const r = this.records.get(uid);
    return r && structuredClone(r);
  }
  async has(uid: string) {
    return this.records.has(uid);
  }
  async getWithMark(uid: string) {
    return { record: await this.get(uid), mark: await this.revokedMark(uid) };
  }
  async put(record: PodRecord, options: PutOptions = {}) {
    this.records.set(record.uid, PodRecordSchema.parse(structuredClone(record)));
    if (options.dropRenewTimer !== undefined && options.dropRenewTimer !== record.renewJobId)
      this.timers.delete(options.dropRenewTimer);
    if (options.renewTimerDueAt !== undefined && record.renewJobId)
      this.timers.set(record.renewJobId, options.renewTimerDueAt);
  }
  async delete(uid: string, renewTimer?: string) {
    this.records.delete(uid);
    return renewTimer !== undefined && this.timers.delete(renewTimer);
  }
  async inNamespace(namespace: string) {
    return [...this.records.values()].filter((r) => r.namespace === namespace).map((r) => structuredClone(r));
  }
  async byName(namespace: string, name: string) {
    return (await this.inNamespace(namespace)).filter((r) => r.name === name);
  }
  async markRevoked(uid: string, mark: RevokedMark) {
    this.marks.set(uid, { ...mark });
  }
  async revokedMark(uid: string) {
    return this.marks.get(uid);
  }
  async clearRevoked(uid: string) {
    this.marks.delete(uid);
  }
  async uids() {
    return [...this.records.keys()];
  }
  async all() {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  /** Typed as the real class for WorkerDeps (which names PodIndex). */
  asPodIndex(): PodIndex {
    return this as unknown as PodIndex;
  }
}
