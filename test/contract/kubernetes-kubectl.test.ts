/** Contract: kubectl v1.32 against the emulator (discovery, OpenAPI v3 validation, get/create/apply/delete --wait). */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { suite } from "uvu";
import { startKubernetesEmulator, type KubernetesEmulator } from "../emulators/kubernetes/index.ts";

const run = promisify(execFile);
/** kubectl from PATH (CI installs it when the registry carries it); empty when absent. */
const KUBECTL = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
})();
const test = suite("kubernetes emulator: kubectl smoke");
let emu: KubernetesEmulator;
let dir = "";

/** stdout (plus stderr, where kubectl prints "No resources found"). */
async function kubectl(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(
    KUBECTL,
    ["--kubeconfig", join(dir, "config"), "--cache-dir", join(dir, "cache"), "--request-timeout=10s", ...args],
    { timeout: 20_000 },
  );
  return args.includes("json") ? stdout : `${stdout}${stderr}`;
}

test.before(async () => {
  // client-go never sends credentials to a plain-http server, so kubectl arrives as system:anonymous.
  emu = await startKubernetesEmulator({ anonymousAuth: true, podGraceSeconds: 1 });
  dir = await mkdtemp(join(tmpdir(), "k8s-emu-kubectl-"));
  await emu.writeKubeconfig(join(dir, "config"));
});
test.after(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

if (KUBECTL === "") {
  console.log("kubectl smoke test skipped: kubectl is not on PATH (bash scripts/install-system-deps.sh installs it)");
  test.skip("kubectl smoke", () => undefined);
} else {
  test("get pods -A, create -f, apply -f, get secret -o json, delete pod (waits for DELETED)", async () => {
    await writeFile(
      join(dir, "pod.yaml"),
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kpod\n  labels: {app: smoke}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n",
    );
    await writeFile(
      join(dir, "secret.yaml"),
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ksecret\nstringData:\n  user: alice\n",
    );
    assert.match(await kubectl("get", "pods", "-A"), /No resources found|NAME/);
    assert.match(await kubectl("create", "-f", join(dir, "pod.yaml")), /pod\/kpod created/);
    assert.match(await kubectl("apply", "-f", join(dir, "secret.yaml")), /secret\/ksecret created/);
    await writeFile(
      join(dir, "secret.yaml"),
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ksecret\nstringData:\n  user: bob\n",
    );
    assert.match(await kubectl("apply", "-f", join(dir, "secret.yaml")), /secret\/ksecret configured/);
    const secret = JSON.parse(await kubectl("get", "secret", "ksecret", "-o", "json"));
    assert.equal(Buffer.from(secret.data.user, "base64").toString(), "bob");
    const listed = await kubectl("get", "pods", "-A");
    assert.match(listed, /default\s+kpod\s+/);
    assert.equal(JSON.parse(await kubectl("get", "pod", "kpod", "-o", "json")).metadata.labels.app, "smoke");
    assert.match(await kubectl("delete", "pod", "kpod"), /pod "kpod" deleted/);
    assert.equal(
      emu.control.get("pods", "default", "kpod"),
      undefined,
      "delete --wait returned only after the pod was gone",
    );
    const missing = await kubectl("get", "pod", "kpod").then(
      () => "found",
      (err: { stderr?: string }) => err.stderr ?? "",
    );
    assert.match(missing, /NotFound|not found/);
  });
}

test.run();
