/**
 * The image runs compiled JavaScript: `npm run build` (what the Dockerfile's build stage runs)
 * turns the sources into dist/, the compiled entry starts with plain `node` (no TypeScript
 * loader) — refusing a bad configuration with exit 2, serving and stopping with a good one — and
 * needs only production dependencies. The Dockerfile's entry, the manifests' command and
 * dist/ agree.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../helpers/ports.ts";
import { randomIndexKey, seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../e2e/harness.ts";
import { kustomize } from "./build.ts";

const ENTRY = "dist/functions/entry/node.js";
const t = suite<{ stack: Stack; seeded: Seeded }>("image: compiled JavaScript");

t.before(async (ctx) => {
  // The build stage: npm run build (tsc -p tsconfig.build.json) into dist/.
  await promisify(execFile)("npm", ["run", "build"], { timeout: 300_000 });
  ctx.stack = await startStack({ postgres: false, podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
});
t.after(async (ctx) => {
  await ctx.stack?.close();
});

/** Plain node, no --import: what the runtime stage runs. */
function node(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : [],
  );
}

/** The Dockerfile's ENTRYPOINT: node, its heap flags, the compiled entry. */
function imageEntrypoint(): string[] {
  return JSON.parse(/^ENTRYPOINT (.+)$/m.exec(readFileSync("Dockerfile", "utf8"))?.[1] ?? "[]") as string[];
}

t(
  "the Dockerfile runs dist/functions/entry/node.js with node and heap flags; the manifests' command is the same",
  () => {
    const dockerfile = readFileSync("Dockerfile", "utf8");
    assert.match(dockerfile, /^FROM \S+ AS build$/m);
    assert.match(dockerfile, /^RUN npm ci --ignore-scripts/m, "the build stage installs the lockfile with npm ci");
    assert.match(dockerfile, /^RUN npm run build$/m);
    assert.match(dockerfile, /^RUN npm ci --omit=dev /m, "the runtime stage has production dependencies only");
    assert.match(dockerfile, /^COPY --from=build \/app\/dist \.\/dist$/m);
    const entry = imageEntrypoint();
    assert.is(entry[0], "node");
    assert.is(entry.at(-1), ENTRY);
    for (const flag of entry.slice(1, -1))
      assert.match(flag, /^--max-(old|semi)-space-size=\d+$/, "only V8 heap sizing between node and the entry");
    assert.ok(existsSync(ENTRY), `${ENTRY} is built`);
    const commands = kustomize("overlays/all-in-one")
      .filter((o) => o.kind === "Deployment")
      .flatMap((d) =>
        (
          d as unknown as { spec: { template: { spec: { containers: Array<{ command?: string[] }> } } } }
        ).spec.template.spec.containers.map((c) => c.command),
      );
    assert.ok(commands.length > 0);
    for (const command of commands)
      assert.equal(command ?? entry, entry, "a Deployment's command runs the compiled entry");
  },
);

t("dist/ needs only production dependencies (tsx is a devDependency) and keeps no .ts import", () => {
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  assert.ok(pkg.devDependencies.tsx && !pkg.dependencies.tsx, "tsx is for development only");
  const builtins = new Set(builtinModules);
  const needed = new Set<string>();
  for (const file of jsFiles("dist")) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(
      /(?:^|\s)(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)|^import\s+"([^"]+)"/gm,
    )) {
      const spec = m[1] ?? m[2] ?? m[3] ?? "";
      assert.not.match(spec, /\.ts$/, `${file} imports ${spec}`);
      if (spec.startsWith(".") || spec.startsWith("node:") || builtins.has(spec)) continue;
      needed.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] ?? spec));
    }
  }
  // cloudflare:* is provided by the Workers runtime (functions/entry/cloudflare.ts, bundled by wrangler).
  const missing = [...needed].filter((p) => !pkg.dependencies[p] && !p.startsWith("cloudflare:"));
  assert.equal(
    missing,
    [],
    `compiled code imports packages that are not production dependencies: ${missing.join(", ")}`,
  );
});

t("node dist/functions/entry/node.js with a bad setting stops with exit 2 and names it", async () => {
  const run = node([ENTRY], { LEASEKEEPER_INDEX_KEY: "too-short" });
  assert.is(await run.exited, 2);
  assert.match(
    run.err(),
    /leasekeeper: invalid configuration:\n {2}LEASEKEEPER_INDEX_KEY=\(hidden\): must be 32 bytes/,
  );
});

t(
  "node dist/functions/entry/node.js with a good configuration serves (/readyz, /openapi.json) and stops on SIGTERM; the compiled CLI runs",
  async ({ stack, seeded }) => {
    const port = await freePort();
    // Exactly as the image starts it, heap flags included.
    const run = node(imageEntrypoint().slice(1), {
      LEASEKEEPER_INDEX_KEY: randomIndexKey(),
      LEASEKEEPER_REDIS_URL: stack.redis.url,
      KUBECONFIG: stack.leasekeeperKubeconfigPath,
      VAULT_ADDR: stack.vault.url,
      VAULT_TOKEN: seeded.controllerToken,
      LEASEKEEPER_HTTP_PORT: String(port),
      LEASEKEEPER_HTTP_HOST: "127.0.0.1",
      LEASEKEEPER_SHUTDOWN_TIMEOUT_SECONDS: "2",
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor("ready", async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, 60_000, 200);
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths["/v1/unseal"] === undefined && doc.paths["/v1/revoke"] !== undefined);
    run.child.kill("SIGTERM");
    assert.is(await run.exited, 0, run.err());
    assert.match(run.out(), /"msg":"leasekeeper stopped"/);

    const help = node(["dist/cli/main.js", "--help"], {});
    assert.is(await help.exited, 0);
    assert.match(help.out(), /^usage: leasekeeper <command>/);
  },
);

t.run();
