import { DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { classifyKmsError } from "./kms-errors.ts";
import type { EncryptionContext, KmsPort } from "../ports/kms.ts";

export interface KmsClientOptions {
  readonly keyId: string;
  /** Default: the SDK's own resolution (AWS_REGION, profile). */
  readonly region?: string | undefined;
  /** Default: the SDK's own resolution (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, the public endpoint). */
  readonly endpoint?: string | undefined;
  /** SDK attempts per call (it retries throttling and 5xx itself). */
  readonly maxAttempts?: number;
}

/** KmsPort over @aws-sdk/client-kms. Credentials come from the SDK's default chain. */
export function createKmsClient(options: KmsClientOptions): KmsPort & { destroy(): void } {
  const client = new KMSClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? 3,
  });
  const keyId = options.keyId;
  return {
    keyId,
    async encrypt(plaintext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
      try {
        const out = await client.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: { ...context } }),
        );
        if (!out.CiphertextBlob) throw new Error("kms: Encrypt answered without a CiphertextBlob");
        return out.CiphertextBlob;
      } catch (err) {
        throw classifyKmsError(err, "encrypt");
      }
    },
    async decrypt(ciphertext: Uint8Array, context: EncryptionContext): Promise<Uint8Array> {
      try {
        const out = await client.send(
          new DecryptCommand({ KeyId: keyId, CiphertextBlob: ciphertext, EncryptionContext: { ...context } }),
        );
        if (!out.Plaintext) throw new Error("kms: Decrypt answered without a Plaintext");
        return out.Plaintext;
      } catch (err) {
        throw classifyKmsError(err, "decrypt");
      }
    },
    destroy: () => client.destroy(),
  };
}
