import { pathToFileURL } from "node:url";
import { ConfigError, loadConfig, requireUnsealKeys } from "../shared/config/config.ts";
import { ENV } from "../shared/config/env-vars.ts";
import { createKubeClient } from "../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../shared/kube/kube-config.ts";
import { createKmsClient } from "../shared/kms/kms-client.ts";
import { keyStoreFor } from "../shared/unseal/key-store-from-config.ts";
import { KEYS_USAGE, runKeysCommand } from "./keys.ts";
import { ONCALL_COMMANDS, ONCALL_USAGE, runOncallCommand, type OncallCommand } from "./oncall.ts";

/**
 * `leasekeeper <command>` (npm run cli -- revoke|leases|unseal|keys …; npm run keys -- import|verify).
 * revoke / leases / unseal talk to leasekeeper's HTTP API (docs/http-api.md, "CLI"). keys reads the
 * same environment as the service (docs/unseal.md): LEASEKEEPER_KMS_KEY_ID,
 * LEASEKEEPER_UNSEAL_CLUSTER_ID, the key store variables, KUBECONFIG.
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if ((ONCALL_COMMANDS as readonly string[]).includes(command ?? "")) {
    return runOncallCommand(command as OncallCommand, rest, {
      stdin: process.stdin,
      isTTY: process.stdin.isTTY === true,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      prompt: (text) => process.stderr.write(text),
    }, { env });
  }
  if (command !== "keys") {
    process.stderr.write(`${ONCALL_USAGE}\n       leasekeeper keys <import|verify>\n\n${KEYS_USAGE}\n`);
    return 2;
  }
  let config;
  let unsealKeys;
  try {
    // The CLI never touches the pod index; a throwaway key satisfies the one config parser.
    config = loadConfig({ ...env, [ENV.indexKey]: env[ENV.indexKey] || Buffer.alloc(32).toString("base64") });
    unsealKeys = requireUnsealKeys(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`leasekeeper: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const kms = createKmsClient(unsealKeys.kms);
  try {
    const kube = createKubeClient(loadKubeConfig(config.kubeconfig));
    const keys = keyStoreFor(unsealKeys, kube, kms);
    return await runKeysCommand(rest, {
      stdin: process.stdin,
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    }, { keys, kmsKeyId: unsealKeys.kms.keyId });
  } finally {
    kms.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
