/**
 * The emulator's ciphertext blob (spec A6 recommendation; not AWS's real format):
 *
 *   format byte 0x01 ‖ key-id length (1 byte) ‖ key id (ASCII) ‖ material version (uint32 BE)
 *   ‖ 12-byte random nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag
 *
 * AAD = every header byte up to and including the nonce ‖ canonical(EncryptionContext),
 * so neither the header nor the context can be altered without the tag failing.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { canonicalEncryptionContext, type EncryptionContext } from "./encryption-context.ts";
import { invalidCiphertext } from "./errors.ts";

const FORMAT_V1 = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ParsedBlob {
  keyId: string;
  materialVersion: number;
  /** Header bytes through the nonce; part of the AAD. */
  header: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function sealBlob(args: {
  keyId: string;
  materialVersion: number;
  material: Buffer;
  plaintext: Buffer;
  context: EncryptionContext | undefined;
}): Buffer {
  const keyId = Buffer.from(args.keyId, "ascii");
  const version = Buffer.alloc(4);
  version.writeUInt32BE(args.materialVersion);
  const nonce = randomBytes(NONCE_BYTES);
  const header = Buffer.concat([Buffer.from([FORMAT_V1, keyId.length]), keyId, version, nonce]);
  const cipher = createCipheriv("aes-256-gcm", args.material, nonce);
  cipher.setAAD(Buffer.concat([header, canonicalEncryptionContext(args.context)]));
  const ciphertext = Buffer.concat([cipher.update(args.plaintext), cipher.final()]);
  return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
}

/** Returns undefined when the bytes are not an emulator blob. */
export function parseBlob(blob: Buffer): ParsedBlob | undefined {
  if (blob.length < 2 || blob[0] !== FORMAT_V1) return undefined;
  const keyIdLength = blob[1] ?? 0;
  const nonceStart = 2 + keyIdLength + 4;
  const bodyStart = nonceStart + NONCE_BYTES;
  if (blob.length < bodyStart + TAG_BYTES) return undefined;
  const keyId = blob.subarray(2, 2 + keyIdLength).toString("latin1");
  if (!KEY_ID_PATTERN.test(keyId)) return undefined;
  return {
    keyId,
    materialVersion: blob.readUInt32BE(2 + keyIdLength),
    header: blob.subarray(0, bodyStart),
    nonce: blob.subarray(nonceStart, bodyStart),
    ciphertext: blob.subarray(bodyStart, blob.length - TAG_BYTES),
    tag: blob.subarray(blob.length - TAG_BYTES),
  };
}

/** Authenticates and decrypts; any failure is InvalidCiphertextException. */
export function openBlob(parsed: ParsedBlob, material: Buffer, context: EncryptionContext | undefined): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", material, parsed.nonce);
  decipher.setAAD(Buffer.concat([parsed.header, canonicalEncryptionContext(context)]));
  decipher.setAuthTag(parsed.tag);
  try {
    return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
  } catch (err) {
    throw invalidCiphertext(err);
  }
}
