/** Writes a kubeconfig (YAML) that both @kubernetes/client-node and kubectl accept for the emulator. */
import { writeFile } from "node:fs/promises";

export function kubeconfigYaml(server: string, token: string, namespace: string): string {
  const q = (s: string): string => JSON.stringify(s);
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: emulator",
    "  cluster:",
    `    server: ${q(server)}`,
    "    insecure-skip-tls-verify: true",
    "users:",
    "- name: emulator-user",
    "  user:",
    `    token: ${q(token)}`,
    "contexts:",
    "- name: emulator",
    "  context:",
    "    cluster: emulator",
    "    user: emulator-user",
    `    namespace: ${q(namespace)}`,
    "current-context: emulator",
    "preferences: {}",
    "",
  ].join("\n");
}

export async function writeKubeconfig(path: string, server: string, token: string, namespace: string): Promise<void> {
  await writeFile(path, kubeconfigYaml(server, token, namespace), { mode: 0o600 });
}
