import { z } from "zod";
import { ENV } from "../../shared/config/env-vars.ts";

const list = z.string().default("").transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));

/** What the Cloudflare Worker reads from its bindings (vars and secrets), by the same names as on Node. */
const schema = z.object({
  [ENV.redisUrl]: z.string().regex(/^rediss?:\/\//, "must be redis:// or rediss:// (use rediss:// with TLS from Cloudflare)"),
  [ENV.queuePrefix]: z.string().min(1).default("{leasekeeper}"),
  [ENV.apiTokens]: list.pipe(z.array(z.string().regex(/^[0-9a-f]{64}$/))),
  [ENV.ciHmacSecrets]: list.pipe(z.array(z.string().min(32))),
  [ENV.httpRateLimit]: z.coerce.number().int().min(1).default(600),
  [ENV.maxAttempts]: z.coerce.number().int().min(1).default(8),
  [ENV.namespaces]: list,
  [ENV.kubeServer]: z.string().url().optional(),
  [ENV.kubeToken]: z.string().min(1).optional(),
  [ENV.kubeCaData]: z.string().min(1).optional(),
  [ENV.tokenReviewAudiences]: list,
  [ENV.eventsAuth]: z.enum(["kubernetes", "none"]).default("kubernetes"),
  [ENV.eventsAudience]: z.string().min(1).default("leasekeeper"),
  [ENV.logLevel]: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type WorkerConfig = z.infer<typeof schema>;

export function loadWorkerConfig(env: Record<string, unknown>): WorkerConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(env)) raw[key] = typeof value === "string" && value.trim() === "" ? undefined : value;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const hidden = new Set<string>([ENV.kubeToken, ENV.ciHmacSecrets, ENV.redisUrl, ENV.apiTokens]);
    throw new Error(`invalid Worker configuration: ${parsed.error.issues.map((i) => `${String(i.path[0])}${hidden.has(String(i.path[0])) ? "" : ` (${JSON.stringify(raw[String(i.path[0])])})`}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
