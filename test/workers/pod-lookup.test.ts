/** The pod a job is about comes from the watch cache only when it holds that very pod (same UID). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { V1Pod } from "@kubernetes/client-node";
import { currentPod } from "../../workers/pod-lookup.ts";
import type { WorkerDeps } from "../../workers/deps.ts";

const pod = (uid: string): V1Pod => ({ metadata: { namespace: "apps", name: "web", uid } });
const ref = { namespace: "apps", name: "web", uid: "u-2" };

function deps(cached: V1Pod | undefined, served: V1Pod | undefined) {
  const gets: string[] = [];
  const d = {
    podCache: { cachedPod: () => cached },
    kube: {
      readPod: async (namespace: string, name: string) => {
        gets.push(`${namespace}/${name}`);
        return served;
      },
    },
  } as unknown as WorkerDeps;
  return { d, gets };
}

test("the cached pod with the job's UID is used without a GET", async () => {
  const { d, gets } = deps(pod("u-2"), pod("u-2"));
  assert.is((await currentPod(d, ref))?.metadata?.uid, "u-2");
  assert.equal(gets, []);
});

test("a cache miss, another UID (replaced pod) or no cache at all reads the API server", async () => {
  for (const cached of [undefined, pod("u-1")]) {
    const { d, gets } = deps(cached, pod("u-2"));
    assert.is((await currentPod(d, ref))?.metadata?.uid, "u-2");
    assert.equal(gets, ["apps/web"]);
  }
  const { d, gets } = deps(undefined, undefined);
  const noCache = { ...d, podCache: undefined } as WorkerDeps;
  assert.is(await currentPod(noCache, ref), undefined);
  assert.equal(gets, ["apps/web"]);
});

test.run();
