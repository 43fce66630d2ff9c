/** Encrypt, Decrypt, GenerateDataKey and GenerateDataKeyWithoutPlaintext (spec A5). */
import { randomBytes } from "node:crypto";
import { openBlob, parseBlob, sealBlob } from "../ciphertext-blob.ts";
import type { EncryptionContext } from "../encryption-context.ts";
import { ciphertextKeyInaccessible, invalidCiphertext, KmsError } from "../errors.ts";
import { assertUsable, resolveKey } from "../key-resolver.ts";
import type { KeyStore, KmsKey } from "../key-store.ts";
import type { JsonObject, RequestInput } from "../request-input.ts";
import type { OperationHandler } from "./types.ts";

const ALGORITHMS = ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"] as const;

function readAlgorithm(input: RequestInput): string | undefined {
  return input.string("EncryptionAlgorithm", { oneOf: ALGORITHMS });
}

function assertSymmetric(algorithm: string | undefined, key: KmsKey, operation: string): void {
  if (algorithm !== undefined && algorithm !== "SYMMETRIC_DEFAULT") {
    throw new KmsError(
      "InvalidKeyUsageException",
      `${key.arn} key spec is SYMMETRIC_DEFAULT which does not support ${algorithm} for ${operation}.`,
    );
  }
}

function encryptUnder(key: KmsKey, plaintext: Buffer, context: EncryptionContext | undefined): string {
  const materialVersion = key.materials.length - 1;
  const material = key.materials[materialVersion];
  if (material === undefined) throw new Error(`kms emulator: key ${key.keyId} has no key material`);
  return sealBlob({ keyId: key.keyId, materialVersion, material, plaintext, context }).toString("base64");
}

export const encrypt: OperationHandler = (input, store) => {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  const plaintext = input.blob("Plaintext", { required: true, min: 1, max: 4096 });
  const context = input.encryptionContext("EncryptionContext");
  const algorithm = readAlgorithm(input);
  input.done();
  const key = resolveKey(store, keyId ?? "", { allowAlias: true });
  assertUsable(key);
  assertSymmetric(algorithm, key, "Encrypt");
  return {
    CiphertextBlob: encryptUnder(key, plaintext ?? Buffer.alloc(0), context),
    KeyId: key.arn,
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
  };
};

export const decrypt: OperationHandler = (input, store) => {
  const blob = input.blob("CiphertextBlob", { required: true, min: 1, max: 6144 });
  const keyId = input.string("KeyId", { max: 2048 });
  const context = input.encryptionContext("EncryptionContext");
  const algorithm = readAlgorithm(input);
  input.done();
  const parsed = parseBlob(blob ?? Buffer.alloc(0));
  if (parsed === undefined) throw invalidCiphertext();
  const key = store.getKey(parsed.keyId);
  if (key === undefined) throw ciphertextKeyInaccessible();
  if (keyId !== undefined && resolveKey(store, keyId, { allowAlias: true }).keyId !== key.keyId) {
    throw new KmsError(
      "IncorrectKeyException",
      "The key ID in the request does not identify a CMK that can perform this operation.",
    );
  }
  assertUsable(key);
  assertSymmetric(algorithm, key, "Decrypt");
  const material = key.materials[parsed.materialVersion];
  if (material === undefined) throw invalidCiphertext();
  return {
    KeyId: key.arn,
    Plaintext: openBlob(parsed, material, context).toString("base64"),
    EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
  };
};

function generateDataKey(input: RequestInput, store: KeyStore, withPlaintext: boolean): JsonObject {
  const keyId = input.string("KeyId", { required: true, max: 2048 });
  const context = input.encryptionContext("EncryptionContext");
  const keySpec = input.string("KeySpec", { oneOf: ["AES_256", "AES_128"] });
  const numberOfBytes = input.integer("NumberOfBytes", { min: 1, max: 1024 });
  input.done();
  if ((keySpec === undefined) === (numberOfBytes === undefined)) {
    throw new KmsError("ValidationException", "Please specify either number of bytes or key spec.");
  }
  const key = resolveKey(store, keyId ?? "", { allowAlias: true });
  assertUsable(key);
  const dataKey = randomBytes(numberOfBytes ?? (keySpec === "AES_128" ? 16 : 32));
  return {
    CiphertextBlob: encryptUnder(key, dataKey, context),
    ...(withPlaintext ? { Plaintext: dataKey.toString("base64") } : {}),
    KeyId: key.arn,
  };
}

export const generateDataKeyWithPlaintext: OperationHandler = (input, store) => generateDataKey(input, store, true);

export const generateDataKeyWithoutPlaintext: OperationHandler = (input, store) => generateDataKey(input, store, false);
