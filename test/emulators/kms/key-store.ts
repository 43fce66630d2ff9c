/**
 * In-memory keys and aliases of one account in one region. Key material is a list of
 * 32-byte AES keys: index = material version; encryption uses the newest, decryption
 * the version named in the blob (so rotation can be emulated).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { KmsError } from "./errors.ts";

export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

export interface KmsKey {
  readonly keyId: string;
  readonly arn: string;
  readonly description: string;
  readonly creationDate: Date;
  state: KeyState;
  deletionDate?: Date;
  pendingWindowInDays?: number;
  readonly materials: Buffer[];
}

export interface KmsAlias {
  readonly name: string;
  readonly arn: string;
  targetKeyId: string;
  readonly creationDate: Date;
  lastUpdatedDate: Date;
}

export class KeyStore {
  private readonly keys = new Map<string, KmsKey>();
  private readonly aliases = new Map<string, KmsAlias>();

  constructor(
    readonly region: string,
    readonly accountId: string,
  ) {}

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  aliasArn(aliasName: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${aliasName}`;
  }

  createKey(description = ""): KmsKey {
    const keyId = randomUUID();
    const key: KmsKey = {
      keyId,
      arn: this.keyArn(keyId),
      description,
      creationDate: new Date(),
      state: "Enabled",
      materials: [randomBytes(32)],
    };
    this.keys.set(keyId, key);
    return key;
  }

  getKey(keyId: string): KmsKey | undefined {
    return this.keys.get(keyId);
  }

  /** Removes a key and its aliases outright (what real deletion leaves behind). */
  deleteKey(keyId: string): boolean {
    for (const alias of this.aliasesOf(keyId)) this.aliases.delete(alias.name);
    return this.keys.delete(keyId);
  }

  rotateKey(keyId: string): number {
    const key = this.keys.get(keyId);
    if (key === undefined) throw new Error(`kms emulator: rotateKey: no key ${keyId}`);
    key.materials.push(randomBytes(32));
    return key.materials.length - 1;
  }

  listKeys(): KmsKey[] {
    return [...this.keys.values()];
  }

  addAlias(name: string, targetKeyId: string): KmsAlias {
    if (this.aliases.has(name)) {
      throw new KmsError("AlreadyExistsException", `An alias with the name ${this.aliasArn(name)} already exists`);
    }
    const now = new Date();
    const alias: KmsAlias = { name, arn: this.aliasArn(name), targetKeyId, creationDate: now, lastUpdatedDate: now };
    this.aliases.set(name, alias);
    return alias;
  }

  getAlias(name: string): KmsAlias | undefined {
    return this.aliases.get(name);
  }

  listAliases(): KmsAlias[] {
    return [...this.aliases.values()];
  }

  aliasesOf(keyId: string): KmsAlias[] {
    return this.listAliases().filter((alias) => alias.targetKeyId === keyId);
  }
}
