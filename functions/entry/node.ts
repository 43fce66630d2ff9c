import { ConfigError, loadConfig } from "../../shared/config/config.ts";
import { createLogger } from "../../shared/observability/log.ts";
import { startRuntime } from "./runtime.ts";

/**
 * The one entry point: LEASEKEEPER_ROLES=all (default) or any of watch,functions,workers,
 * reconciler. SIGTERM/SIGINT stop intake, let running jobs finish within the bound, and close.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`leasekeeper: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const runtime = await startRuntime(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const hard = setTimeout(() => process.exit(1), (config.shutdownTimeoutSeconds + 5) * 1000);
    hard.unref();
    runtime.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

await main();
