/** Error values that the router turns into Vault's `{"errors":[...]}` bodies. */

export class VaultHttpError extends Error {
  override name = "VaultHttpError";
  /** `null` message renders as `{"errors":[]}`. */
  constructor(
    readonly status: number,
    readonly text: string | null,
  ) {
    super(text ?? `status ${status}`);
  }
}

/** Go's hashicorp/go-multierror text, as produced by Core.handleRequest. */
export function multi(...messages: string[]): string {
  const head = messages.length === 1 ? "1 error occurred:" : `${messages.length} errors occurred:`;
  return `${head}\n${messages.map((m) => `\t* ${m}`).join("\n")}\n\n`;
}

export const PERMISSION_DENIED = multi("permission denied");
export const INVALID_TOKEN = multi("permission denied", "invalid token");

/** Plain error response (what a backend's logical.ErrorResponse produces): 400. */
export function badRequest(text: string): VaultHttpError {
  return new VaultHttpError(400, text);
}

/** Error passed through Core.handleRequest: multierror-wrapped. */
export function wrapped(status: number, text: string): VaultHttpError {
  return new VaultHttpError(status, multi(text));
}

export function emptyError(status: number): VaultHttpError {
  return new VaultHttpError(status, null);
}
