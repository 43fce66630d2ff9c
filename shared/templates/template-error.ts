/**
 * A template that leasekeeper will not render. `construct` names what was refused (a function,
 * a keyword, a syntax error) so a webhook refusal can say exactly what to change.
 */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  constructor(
    readonly line: number,
    readonly construct: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`line ${line}: ${detail}`, options);
  }
}

export function isTemplateError(err: unknown): err is TemplateError {
  return err instanceof TemplateError || (err instanceof Error && err.name === "TemplateError");
}
