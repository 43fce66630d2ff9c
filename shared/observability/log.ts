import { pino, type Logger } from "pino";

/** Keys whose values never reach a log line, at any depth pino can address. */
export const REDACTED_KEYS = [
  "token",
  "client_token",
  "clientToken",
  "jwt",
  "password",
  "secret",
  "secrets",
  "key",
  "keys",
  "keys_base64",
  "ciphertext",
  "CiphertextBlob",
  "Plaintext",
  "plaintext",
  "data",
  "stringData",
  "authorization",
  "Authorization",
  "x-vault-token",
  "X-Vault-Token",
  "root_token",
  "unsealKey",
  "accessor",
  "encryptedToken",
];

const paths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export type Log = Logger;

/** Structured JSON logger; context object first: log.info({ pod, job }, "issued"). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Log {
  const options = {
    level,
    base: { service: "leasekeeper" },
    redact: { paths, censor: "[redacted]" },
    serializers: { err: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
