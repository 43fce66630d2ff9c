import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import vault from "node-vault";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { controllerJwtMount, shippedSettings } from "../helpers/shipped.ts";
import { failure } from "../emulators/vault/testing.ts";
import { opted, roleExists, startLeasekeeper, waitFor } from "./harness.ts";

/**
 * leasekeeper's own Vault identity as shipped: infra/vault/setup.sh's role `leasekeeper` and the
 * token of the projected volume the Deployment mounts (audience and expiry read from the
 * manifest). It logs in, renews that token, logs in again when the token reaches its max TTL —
 * lifecycle calls keep working throughout.
 */
const identity = suite<{ stack: Stack; seeded: Seeded }>("controller identity");

identity.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  // Short TTLs for leasekeeper's role (setup.sh's CONTROLLER_ROLE_TTL/_MAX_TTL; shipped 1h/24h), to see renewal and re-login.
  ctx.seeded = await seedExample(ctx.stack, { controllerRoleTtl: "4s", controllerRoleMaxTtl: "9s" });
});
identity.after(async (ctx) => {
  await ctx.stack?.close();
});

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as {
    aud: string[];
    exp: number;
    iat: number;
    sub: string;
  };

identity(
  "the Deployment's projected token logs in to role leasekeeper; the default service-account token does not",
  async ({ stack }) => {
    const shipped = shippedSettings();
    const mount = controllerJwtMount(shipped);
    const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
    const role = (await root.read("auth/kubernetes/role/leasekeeper")) as {
      data: { audience: string; bound_service_account_names: string[]; bound_service_account_namespaces: string[] };
    };
    assert.is(mount.audience, role.data.audience, "projected volume audience = setup.sh's role audience");
    assert.equal(role.data.bound_service_account_names, [shipped.serviceAccount.name]);
    assert.equal(role.data.bound_service_account_namespaces, [shipped.serviceAccount.namespace]);
    // What the Deployment mounted before: only the default token, audience = the API server.
    const sa = { namespace: shipped.serviceAccount.namespace, serviceAccount: shipped.serviceAccount.name };
    const defaultToken = stack.kube.control.issueToken({ ...sa, expirationSeconds: 3600 });
    const refused = await failure(
      vault({ apiVersion: "v1", endpoint: stack.vault.url }).write("auth/kubernetes/login", {
        role: "leasekeeper",
        jwt: defaultToken,
      }),
    );
    assert.is(refused.status, 403);
    assert.match(refused.message, /audience/);
    const projected = stack.kube.control.issueToken({
      ...sa,
      audiences: [mount.audience],
      expirationSeconds: mount.expirationSeconds,
    });
    const login = (await vault({ apiVersion: "v1", endpoint: stack.vault.url }).write("auth/kubernetes/login", {
      role: "leasekeeper",
      jwt: projected,
    })) as { auth: { policies: string[] } };
    assert.ok(login.auth.policies.includes("leasekeeper"));
  },
);

identity(
  "logs in as its service account, keeps its token alive past max TTL, and revokes with it",
  async ({ stack, seeded }) => {
    const lk = await startLeasekeeper(stack, seeded);
    try {
      const mount = controllerJwtMount(shippedSettings());
      const jwt = claims(readFileSync(lk.config.vaultJwtFile, "utf8"));
      assert.equal(jwt.aud, [mount.audience], "the token leasekeeper reads has the manifest's audience");
      assert.is(jwt.exp - jwt.iat, mount.expirationSeconds, "and its expiry");
      assert.is(lk.config.vaultRole, "leasekeeper");
      assert.is(lk.config.vaultToken, undefined, "no static token: the shipped Deployment logs in");
      const mine = () => stack.vault.control.tokens().filter((t) => t.role === "leasekeeper");
      await waitFor("leasekeeper logged in", async () => mine().length >= 1);
      await stack.core.createNamespacedPod({ namespace: "default", body: opted("cid-1") });
      const secret = await waitFor("Secret", () =>
        stack.core.readNamespacedSecret({ namespace: "default", name: "cid-1-leasekeeper" }).catch(() => undefined),
      );
      const creds = JSON.parse(Buffer.from(secret.data?.["creds.json"] ?? "", "base64").toString("utf8")) as {
        username: string;
      };
      // Past the 9 s max TTL of its first token: it must have renewed and then logged in again.
      await new Promise((r) => setTimeout(r, 11_000));
      assert.ok(mine().length >= 2, `logged in again after max TTL (${mine().length} tokens)`);
      assert.ok(
        mine().some((t) => !t.revoked && t.expireTime !== null && t.expireTime.getTime() > Date.now()),
        "a live token now",
      );
      await stack.core.deleteNamespacedPod({ namespace: "default", name: "cid-1" });
      await waitFor("revoked with the current token", async () => !(await roleExists(stack, creds.username)), 10_000);
      assert.ok(lk.logs.join("").includes("logged in to Vault as leasekeeper"));
      for (const t of mine()) assert.not.ok(lk.logs.join("").includes(t.id), "its token never logged");
    } finally {
      await lk.stop();
    }
  },
);

identity.run();
