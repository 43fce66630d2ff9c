/** In-memory KV v2 storage: versions with soft delete / destroy, per-path metadata. */

export interface KvVersion {
  data: Record<string, unknown> | null;
  createdTime: number;
  deletionTime: number | null;
  destroyed: boolean;
}

export interface KvEntry {
  versions: Map<number, KvVersion>;
  currentVersion: number;
  oldestVersion: number;
  createdTime: number;
  updatedTime: number;
  customMetadata: Record<string, string> | null;
}

export class KvStore {
  readonly entries = new Map<string, KvEntry>();

  write(path: string, data: Record<string, unknown>, now: number): { entry: KvEntry; version: number } {
    let entry = this.entries.get(path);
    if (!entry) {
      entry = {
        versions: new Map(),
        currentVersion: 0,
        oldestVersion: 0,
        createdTime: now,
        updatedTime: now,
        customMetadata: null,
      };
      this.entries.set(path, entry);
    }
    const version = entry.currentVersion + 1;
    entry.versions.set(version, { data, createdTime: now, deletionTime: null, destroyed: false });
    entry.currentVersion = version;
    if (entry.oldestVersion === 0) entry.oldestVersion = version;
    entry.updatedTime = now;
    return { entry, version };
  }

  /** Keys one level under prefix (folders end with `/`). */
  list(prefix: string): string[] {
    const keys = new Set<string>();
    for (const path of this.entries.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...keys].sort();
  }
}
