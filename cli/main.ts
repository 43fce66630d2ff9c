import { pathToFileURL } from "node:url";
import type { OncallCommand } from "./oncall.ts";
import { commandUsage, fullUsage, programName } from "./usage.ts";

const ONCALL = ["revoke", "leases", "audit", "job", "unseal", "dashboard"];

/**
 * `leasekeeper <command>` (npm run cli -- <command> …, `kubectl leasekeeper <command> …` through
 * bin/kubectl-leasekeeper; npm run keys -- import|verify). revoke / leases / audit / job / unseal /
 * dashboard talk to leasekeeper's HTTP API (docs/http-api.md, "CLI"); ci-sign signs a CI hook
 * call; keys reads the same environment as the service (docs/unseal.md): LEASEKEEPER_KMS_KEY_ID,
 * LEASEKEEPER_UNSEAL_CLUSTER_ID, the key store variables, KUBECONFIG. Each command's modules are
 * loaded when it runs (the Kubernetes and AWS clients take seconds on a busy machine; --help needs neither).
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  const prog = programName(env);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const err = (line: string) => process.stderr.write(`${line}\n`);
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    (command === undefined ? err : out)(fullUsage(prog));
    return command === undefined ? 2 : 0;
  }
  if (ONCALL.includes(command)) {
    const { runOncallCommand } = await import("./oncall.ts");
    return runOncallCommand(
      command as OncallCommand,
      rest,
      {
        stdin: process.stdin,
        isTTY: process.stdin.isTTY === true,
        out,
        err,
        prompt: (text) => process.stderr.write(text),
      },
      { env },
    );
  }
  if (command === "ci-sign") {
    const { runCiSign } = await import("./ci-sign.ts");
    return runCiSign(rest, { stdin: process.stdin, out, err }, env, commandUsage(prog, "ci-sign"));
  }
  if (command !== "keys") {
    err(`${prog}: unknown command "${command}"\n\n${fullUsage(prog)}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    out(commandUsage(prog, "keys"));
    return 0;
  }
  return runKeys(rest, env);
}

/** `keys import|verify` with the service's own configuration, KMS and key store. */
async function runKeys(rest: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [
    { ConfigError, loadConfig, requireUnsealKeys },
    { ENV },
    { createKubeClient },
    { loadKubeConfig },
    { createKmsClient },
    { keyStoreFor },
    { runKeysCommand },
  ] = await Promise.all([
    import("../shared/config/config.ts"),
    import("../shared/config/env-vars.ts"),
    import("../shared/kube/kube-client.ts"),
    import("../shared/kube/kube-config.ts"),
    import("../shared/kms/kms-client.ts"),
    import("../shared/unseal/key-store-from-config.ts"),
    import("./keys.ts"),
  ]);
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
    return await runKeysCommand(
      rest,
      {
        stdin: process.stdin,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
      },
      { keys, kmsKeyId: unsealKeys.kms.keyId },
    );
  } finally {
    kms.destroy();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
