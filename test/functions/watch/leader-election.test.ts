import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Writable } from "node:stream";
import { LeaderElector } from "../../../functions/watch/leader-election.ts";
import { loadKubeConfig } from "../../../shared/kube/kube-config.ts";
import { createLogger } from "../../../shared/observability/log.ts";
import { startKubernetesEmulator, type KubernetesEmulator } from "../../emulators/kubernetes/index.ts";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const election = suite<{ kube: KubernetesEmulator; kubeconfig: string }>("leader election");
const quiet = createLogger("silent", new Writable({ write: (_c, _e, done) => done() }));

election.before(async (ctx) => {
  ctx.kube = await startKubernetesEmulator();
  ctx.kubeconfig = join(mkdtempSync(join(tmpdir(), "lk-le-")), "kubeconfig");
  await ctx.kube.writeKubeconfig(ctx.kubeconfig);
});
election.after(async (ctx) => {
  await ctx.kube?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

election(
  "exactly one of two replicas leads; the standby takes over when the leader stops or dies",
  async ({ kube, kubeconfig }) => {
    const transitions: string[] = [];
    const make = (identity: string) => {
      const elector = new LeaderElector(
        loadKubeConfig(kubeconfig),
        { namespace: "default", name: "lk-test", identity, leaseDurationSeconds: 2 },
        quiet,
      );
      return {
        elector,
        identity,
        get leading() {
          return elector.leading;
        },
        stop: () => elector.stop(),
      };
    };
    const start = (c: ReturnType<typeof make>) =>
      c.elector.start(
        () => transitions.push(`${c.identity}+`),
        () => transitions.push(`${c.identity}-`),
      );
    const a = make("a");
    const b = make("b");
    start(a);
    await sleep(300);
    start(b);
    await sleep(1500);
    assert.ok(a.leading !== b.leading, "exactly one leads");
    const leader = a.leading ? a : b;
    const standby = a.leading ? b : a;
    const lease = kube.control.get("coordination.k8s.io/leases", "default", "lk-test") as {
      spec?: { holderIdentity?: string; renewTime?: string };
    };
    assert.is(lease.spec?.holderIdentity, a.leading ? "a" : "b");
    assert.match(String(lease.spec?.renewTime), /\.\d{6}Z$/, "MicroTime with six fractional digits");

    // Graceful stop releases the lease: the standby leads at its next try.
    await leader.stop();
    await sleep(1500);
    assert.ok(standby.leading, "standby took over after release");

    await standby.stop();

    // A leader that dies without releasing (SIGKILL): the other waits out the lease, then leads.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/functions/watch/elector-child.ts", kubeconfig, "killed"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("leading")) resolve();
      });
      child.once("exit", () => reject(new Error("child exited before leading")));
    });
    const c = make("c");
    start(c);
    await sleep(800);
    assert.not.ok(c.leading, "no second leader while the first one's lease is valid");
    child.kill("SIGKILL");
    const killedAt = Date.now();
    while (!c.leading && Date.now() - killedAt < 6000) await sleep(100);
    assert.ok(c.leading, "the survivor leads after the dead leader's lease ran out");
    assert.ok(Date.now() - killedAt >= 1000, "not before the lease duration");
    await c.stop();
    assert.ok(transitions.length >= 3, transitions.join(","));
  },
);

election.run();
