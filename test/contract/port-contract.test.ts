/**
 * The real VaultPort and KubePort clients (the ones the entry point wires) keep the port contract
 * on the emulators, as leasekeeper's own identities: its Vault policy and infra/base's RBAC. The
 * in-memory fakes keep the same contract in test/fakes/fake-ports.test.ts.
 */
import { createKubeClient } from "../../shared/kube/kube-client.ts";
import { loadKubeConfig } from "../../shared/kube/kube-config.ts";
import { createVaultClient } from "../../shared/vault/vault-client.ts";
import { kubePortContract, vaultPortContract } from "../fakes/port-contract.ts";
import { ensureServiceAccount, seedExample, startStack, type Stack } from "../helpers/stack.ts";

// One stack for both suites. uvu runs them in the order below, so the second one stops it.
let stack: Promise<Stack> | undefined;
const shared = () => (stack ??= startStack({ podGraceSeconds: 0 }));

vaultPortContract("real client on the Vault emulator", async () => {
  const s = await shared();
  const seeded = await seedExample(s);
  return {
    vault: createVaultClient({ endpoint: s.vault.url, controllerToken: seeded.controllerToken, timeoutMs: 5000 }),
    role: "postgres",
    namespace: "default",
    kvPath: "secret/data/db-pass",
    kvPassword: seeded.kvPassword,
    leasePath: "database/creds/postgres-role",
    deniedPath: "secret/data/other",
    jwt: async () =>
      s.kube.control.issueToken({
        namespace: "default",
        serviceAccount: "postgres-vault",
        audiences: ["vault"],
        expirationSeconds: 600,
      }),
    close: async () => undefined,
  };
});

kubePortContract("real client on the Kubernetes emulator", async () => {
  const s = await shared();
  await ensureServiceAccount(s.core, "default", "app");
  return {
    kube: createKubeClient(loadKubeConfig(s.leasekeeperKubeconfigPath)),
    namespace: "default",
    createPod: (name, serviceAccount) =>
      s.core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name },
          spec: { serviceAccountName: serviceAccount, containers: [{ name: "app", image: "busybox" }] },
        },
      }),
    close: () => s.close(),
  };
});
