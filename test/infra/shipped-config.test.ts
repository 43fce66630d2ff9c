/**
 * Tests run what we ship: the end-to-end harness's settings are infra/base's ConfigMap and the
 * Deployment's env, changed only where HARNESS_OVERRIDES says why; and the shipped files agree
 * with each other — the audience of the token the Deployment mounts is the one setup.sh gives
 * leasekeeper's Vault role, bound to the Deployment's service account. Fails on any drift.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import vault from "node-vault";
import { loadConfig } from "../../shared/config/config.ts";
import { ENV } from "../../shared/config/env-vars.ts";
import { harnessEnv } from "../e2e/harness.ts";
import { controllerJwtMount, HARNESS_OVERRIDES, shippedSettings, type ShippedSettings } from "../helpers/shipped.ts";
import { seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";

const shipped = suite<{ stack: Stack; seeded: Seeded; settings: ShippedSettings }>("shipped configuration");

shipped.before(async (ctx) => {
  ctx.stack = await startStack({ postgres: false });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.settings = shippedSettings();
});
shipped.after(async (ctx) => {
  await ctx.stack?.close();
});

shipped(
  "the harness runs the ConfigMap and the Deployment's env; what differs is listed with a reason",
  ({ stack, seeded, settings }) => {
    const env = harnessEnv(stack, seeded);
    const asShipped: Record<string, string> = { ...settings.configMap, ...settings.env };
    const problems: string[] = [];
    for (const key of Object.keys(asShipped))
      if (!(key in env)) problems.push(`${key} is shipped but the harness drops it`);
    for (const [key, value] of Object.entries(env)) {
      const fromPod = key in settings.fromFields || key in settings.fromSecrets;
      if (fromPod || asShipped[key] === value) continue;
      if (HARNESS_OVERRIDES[key] === undefined)
        problems.push(
          `${key}: the harness runs ${JSON.stringify(value)}, infra/ ships ${JSON.stringify(asShipped[key])}, and HARNESS_OVERRIDES gives no reason`,
        );
    }
    for (const [key, why] of Object.entries(HARNESS_OVERRIDES)) {
      if (why.length < 20) problems.push(`${key}: the reason is too short to be one`);
      if (asShipped[key] !== undefined && asShipped[key] === env[key])
        problems.push(`${key} is listed as overridden but the harness runs the shipped value`);
      if (!(Object.values(ENV) as string[]).includes(key)) problems.push(`${key} is not a variable leasekeeper reads`);
    }
    assert.equal(problems, []);
  },
);

shipped(
  "the ConfigMap and the Deployment's env load as a valid configuration with leasekeeper's own Vault role",
  ({ settings }) => {
    const config = loadConfig({
      ...settings.configMap,
      ...settings.env,
      [ENV.indexKey]: Buffer.alloc(32).toString("base64"),
    });
    assert.is(config.vaultRole, "leasekeeper");
    assert.is(config.vaultToken, undefined, "no static token in the shipped settings: the role is the identity");
    assert.is(
      config.vaultJwtFile,
      controllerJwtMount(settings).file,
      "LEASEKEEPER_VAULT_JWT_FILE is the projected token's path",
    );
  },
);

shipped(
  "the Deployment's projected token fits the Vault role setup.sh creates for leasekeeper",
  async ({ stack, settings }) => {
    const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
    const name = settings.configMap[ENV.vaultRole] ?? "";
    const authPath = settings.configMap[ENV.vaultAuthPath] ?? "kubernetes";
    const role = (await root.read(`auth/${authPath}/role/${name}`)) as {
      data: {
        audience: string;
        bound_service_account_names: string[];
        bound_service_account_namespaces: string[];
        token_policies: string[];
      };
    };
    const mount = controllerJwtMount(settings);
    assert.is(mount.audience, role.data.audience, "audience of the Deployment's projected token = the role's audience");
    assert.ok(mount.expirationSeconds >= 600, "TokenRequest refuses less than 10 minutes");
    assert.equal(role.data.bound_service_account_names, [settings.serviceAccount.name]);
    assert.equal(role.data.bound_service_account_namespaces, [settings.serviceAccount.namespace]);
    assert.equal(role.data.token_policies, ["leasekeeper"]);
  },
);

shipped(
  "pods' tokens are requested with the audience setup.sh gives the workload roles",
  async ({ stack, settings }) => {
    const root = vault({ apiVersion: "v1", endpoint: stack.vault.url, token: stack.vault.rootToken });
    const role = (await root.read("auth/kubernetes/role/postgres")) as { data: { audience: string } };
    assert.is(settings.configMap[ENV.tokenAudience], role.data.audience);
  },
);

shipped.run();
