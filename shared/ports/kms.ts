/**
 * The small interface through which leasekeeper reaches AWS KMS. Plaintexts are bytes
 * (Uint8Array) so the caller can zero them after use; never convert them to strings.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

export interface KmsPort {
  /** The configured key (id, ARN or alias) every call is bound to. */
  readonly keyId: string;
  /** KMS Encrypt under the configured key; the context is bound as AAD and must match on decrypt. */
  encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
  /** KMS Decrypt, always naming the configured key (a blob under another key is refused). */
  decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array>;
}
