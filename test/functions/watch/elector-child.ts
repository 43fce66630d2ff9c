/** A leader-election candidate in its own process, so a test can kill it without a goodbye. */
import { Writable } from "node:stream";
import { LeaderElector } from "../../../functions/watch/leader-election.ts";
import { loadKubeConfig } from "../../../shared/kube/kube-config.ts";
import { createLogger } from "../../../shared/observability/log.ts";

const [kubeconfig, identity] = process.argv.slice(2);
const elector = new LeaderElector(
  loadKubeConfig(kubeconfig),
  { namespace: "default", name: "lk-test", identity: identity ?? "child", leaseDurationSeconds: 2 },
  createLogger("silent", new Writable({ write: (_c, _e, done) => done() })),
);
elector.start(
  () => process.stdout.write("leading\n"),
  () => process.stdout.write("stopped\n"),
);
