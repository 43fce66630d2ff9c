/** The y/N question before a real revoke of more than one pod. */

export interface PromptIo {
  readonly stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
  /** Whether stdin is a terminal a person can answer from. */
  readonly isTTY: boolean;
  readonly err: (line: string) => void;
  /** Writes without a newline (the question); defaults to err. */
  readonly prompt?: (text: string) => void;
}

export type Confirmation = "yes" | "no" | "no-tty";

/**
 * Asks `question [y/N]` on stderr and reads one line from stdin: only "y"/"yes" agree.
 * Without a terminal it does not read at all ("no-tty"): piped input is not a person's answer.
 */
export async function confirm(io: PromptIo, question: string): Promise<Confirmation> {
  if (!io.isTTY) return "no-tty";
  (io.prompt ?? ((t: string) => io.err(t)))(`${question} [y/N] `);
  const answer = await readLine(io.stdin);
  return /^(y|yes)$/i.test(answer.trim()) ? "yes" : "no";
}

async function readLine(stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<string> {
  let text = "";
  for await (const chunk of stdin) {
    text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}
