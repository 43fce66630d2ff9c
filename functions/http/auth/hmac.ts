import { hexEqual, hmacSha256Hex } from "./digest.ts";

export const CI_HEADERS = {
  delivery: "x-leasekeeper-delivery",
  timestamp: "x-leasekeeper-timestamp",
  signature: "x-leasekeeper-signature",
} as const;

export type SignatureCheck =
  { ok: true; delivery: string; keyIndex: number } | { ok: false; status: 400 | 401; code: string; message: string };

export interface SignatureOptions {
  readonly secrets: readonly string[];
  /** Accepted clock difference, seconds (default 300). */
  readonly windowSeconds?: number;
  readonly now?: () => number;
}

/**
 * HMAC-SHA256 over `<delivery>.<timestamp>.<raw body>` with a shared secret (any configured one, to
 * allow rotation), the timestamp within the window, compared in constant time. The delivery id is
 * signed because replay protection keys on it: a captured request cannot be sent again under a
 * fresh id. (The split is unambiguous: the timestamp is digits only and the body a JSON object.)
 * Signature header: `sha256=<hex>`.
 */
export function checkSignature(headers: Headers, rawBody: Uint8Array, options: SignatureOptions): SignatureCheck {
  const window = options.windowSeconds ?? 300;
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  const delivery = headers.get(CI_HEADERS.delivery) ?? "";
  const timestamp = headers.get(CI_HEADERS.timestamp) ?? "";
  const signature = headers.get(CI_HEADERS.signature) ?? "";
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(delivery))
    return {
      ok: false,
      status: 400,
      code: "invalid_delivery",
      message: `${CI_HEADERS.delivery} must be 1-128 of [A-Za-z0-9._:-]`,
    };
  if (!/^\d{1,12}$/.test(timestamp))
    return {
      ok: false,
      status: 401,
      code: "invalid_signature",
      message: `${CI_HEADERS.timestamp} must be unix seconds`,
    };
  if (Math.abs(now - Number(timestamp)) > window)
    return {
      ok: false,
      status: 401,
      code: "expired_signature",
      message: `timestamp is more than ${window}s away from the server clock`,
    };
  const given = /^sha256=([0-9a-f]{64})$/.exec(signature)?.[1];
  if (!given)
    return {
      ok: false,
      status: 401,
      code: "invalid_signature",
      message: `${CI_HEADERS.signature} must be sha256=<64 hex>`,
    };
  const prefix = new TextEncoder().encode(signedPrefix(delivery, timestamp));
  const message = new Uint8Array(prefix.length + rawBody.length);
  message.set(prefix, 0);
  message.set(rawBody, prefix.length);
  let keyIndex = -1;
  options.secrets.forEach((secret, i) => {
    if (hexEqual(hmacSha256Hex(secret, message), given) && keyIndex < 0) keyIndex = i;
  });
  if (keyIndex < 0) return { ok: false, status: 401, code: "invalid_signature", message: "signature does not match" };
  return { ok: true, delivery, keyIndex };
}

/** The signed string is this prefix followed by the raw body bytes. */
function signedPrefix(delivery: string, timestamp: string): string {
  return `${delivery}.${timestamp}.`;
}

/** What a CI sender computes (used by the CLI, tests and the benchmark). */
export function signCiRequest(
  secret: string,
  body: string,
  timestampSeconds: number,
  delivery: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    [CI_HEADERS.delivery]: delivery,
    [CI_HEADERS.timestamp]: String(timestampSeconds),
    [CI_HEADERS.signature]: `sha256=${hmacSha256Hex(secret, `${signedPrefix(delivery, String(timestampSeconds))}${body}`)}`,
  };
}
