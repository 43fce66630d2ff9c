/**
 * KMS error responses: one class carrying the wire `__type`, message and HTTP status.
 * Statuses follow the spec (Part A3): 400 for every client error, 5xx only for
 * simulated server faults.
 */
export class KmsError extends Error {
  override readonly name = "KmsError";

  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toBody(): { __type: string; message: string } {
    return { __type: this.type, message: this.message };
  }
}

export function notFound(message: string): KmsError {
  return new KmsError("NotFoundException", message);
}

export function invalidCiphertext(cause?: unknown): KmsError {
  return new KmsError("InvalidCiphertextException", "", 400, { cause });
}

export function serializationError(message: string): KmsError {
  return new KmsError("SerializationException", message);
}

/** Coral-style aggregate: "N validation error(s) detected: a; b". */
export function validationError(violations: readonly string[]): KmsError {
  const n = violations.length;
  return new KmsError(
    "ValidationException",
    `${n} validation error${n === 1 ? "" : "s"} detected: ${violations.join("; ")}`,
  );
}

export function ciphertextKeyInaccessible(): KmsError {
  return new KmsError(
    "AccessDeniedException",
    "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
  );
}
