import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { signCiRequest } from "../functions/http/auth/hmac.ts";
import { messageOf } from "../shared/errors/errors.ts";
import type { CliIo } from "./keys.ts";

/**
 * `leasekeeper ci-sign [--delivery id] [--timestamp s] (<body> | -)`: the headers of a signed
 * POST /v1/hooks/ci, one per line, for `curl -H @file --data-binary "$body"`. The signature is
 * made by the server's own signCiRequest (functions/http/auth/hmac.ts), so the format is known in
 * one place. The secret comes from LEASEKEEPER_CI_SECRET, never from the command line.
 */
export async function runCiSign(
  args: readonly string[],
  io: CliIo,
  env: NodeJS.ProcessEnv,
  usage: string,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { delivery: { type: "string" }, timestamp: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`leasekeeper ci-sign: ${messageOf(err)}\n\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(usage);
    return 0;
  }
  const secret = env.LEASEKEEPER_CI_SECRET ?? "";
  if (secret.length < 32) {
    io.err(
      "leasekeeper ci-sign: set LEASEKEEPER_CI_SECRET to the CI hook's secret (one of LEASEKEEPER_CI_HMAC_SECRETS, ≥ 32 characters)",
    );
    return 2;
  }
  if (positionals.length !== 1) {
    io.err(`leasekeeper ci-sign: give the JSON body (or - to read it from stdin)\n\n${usage}`);
    return 2;
  }
  const body = positionals[0] === "-" ? await readText(io.stdin) : (positionals[0] as string);
  try {
    JSON.parse(body);
  } catch {
    io.err("leasekeeper ci-sign: the body is not JSON");
    return 2;
  }
  const delivery = values.delivery ?? `cli-${randomUUID()}`;
  const timestamp = values.timestamp === undefined ? Math.floor(Date.now() / 1000) : Number(values.timestamp);
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(delivery)) {
    io.err("leasekeeper ci-sign: --delivery wants 1–128 of [A-Za-z0-9._:-]");
    return 2;
  }
  if (!Number.isInteger(timestamp) || timestamp <= 0) {
    io.err("leasekeeper ci-sign: --timestamp wants unix seconds");
    return 2;
  }
  for (const [name, value] of Object.entries(signCiRequest(secret, body, timestamp, delivery)))
    io.out(`${name}: ${value}`);
  return 0;
}

async function readText(stdin: AsyncIterable<Buffer | string> | Iterable<Buffer | string>): Promise<string> {
  let text = "";
  for await (const chunk of stdin) text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
  // Verbatim, as `curl --data-binary @file` sends the same file.
  return text;
}
