/** The in-memory fakes keep the port contract (the real clients keep it on the emulators: test/contract/port-contract.test.ts). */
import { FakeKube } from "./fake-kube.ts";
import { FakeVault } from "./fake-vault.ts";
import { kubePortContract, vaultPortContract } from "./port-contract.ts";

vaultPortContract("in-memory fake", async () => {
  const kube = new FakeKube();
  const vault = new FakeVault((jwt) => kube.review(jwt));
  vault.roles.set("app", {
    serviceAccounts: ["shop/app"],
    paths: ["secret/data/app", "database/creds/app"],
    tokenTtlSeconds: 3600,
    tokenMaxTtlSeconds: 86_400,
  });
  vault.secrets.set("secret/data/app", { data: { data: { password: "kv-pass" } } });
  vault.secrets.set("secret/data/other", { data: { data: { password: "other" } } });
  vault.secrets.set("database/creds/app", {
    data: { password: "db-pass" },
    lease: { ttlSeconds: 3600, maxTtlSeconds: 86_400, renewable: true },
  });
  let n = 0;
  return {
    vault,
    role: "app",
    namespace: "shop",
    kvPath: "secret/data/app",
    kvPassword: "kv-pass",
    leasePath: "database/creds/app",
    deniedPath: "secret/data/other",
    async jwt() {
      const pod = kube.addPod({
        metadata: { name: `p-${n++}`, namespace: "shop" },
        spec: { serviceAccountName: "app", containers: [] },
      });
      return kube.requestPodToken({
        namespace: "shop",
        serviceAccount: "app",
        podName: pod.metadata?.name ?? "",
        podUid: pod.metadata?.uid ?? "",
        audience: "vault",
        expirationSeconds: 600,
      });
    },
    close: async () => undefined,
  };
});

kubePortContract("in-memory fake", async () => {
  const kube = new FakeKube();
  return {
    kube,
    namespace: "shop",
    createPod: async (name, serviceAccount) =>
      kube.addPod({
        metadata: { name, namespace: "shop" },
        spec: { serviceAccountName: serviceAccount, containers: [] },
      }),
    close: async () => undefined,
  };
});
