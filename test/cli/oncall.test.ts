/**
 * `leasekeeper revoke|leases|unseal` against the real HTTP functions (startLeasekeeper on a stack
 * with PostgreSQL): dry-run table, confirmation rules, real revokes (roles dropped), API errors,
 * tables without secret values, and authentication: --token, or a short token for audience leasekeeper
 * requested with the kubeconfig (never the kubeconfig's own token).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { sha256Hex } from "../../functions/http/auth/digest.ts";
import { runOncallCommand, type OncallCommand } from "../../cli/oncall.ts";
import { ensureServiceAccount, seedExample, startStack, type Seeded, type Stack } from "../helpers/stack.ts";
import { roleExists, startLeasekeeper, waitFor, type Harness } from "../e2e/harness.ts";
import { issuedPod, type IssuedPod } from "../e2e/revoke-fixtures.ts";

const t = suite<{ stack: Stack; seeded: Seeded; lk: Harness; token: string }>("cli on-call");

t.before(async (ctx) => {
  ctx.stack = await startStack({ podGraceSeconds: 0 });
  ctx.seeded = await seedExample(ctx.stack);
  ctx.token = randomBytes(24).toString("base64url");
  ctx.lk = await startLeasekeeper(ctx.stack, ctx.seeded, { LEASEKEEPER_API_TOKENS: sha256Hex(ctx.token) });
});
t.after(async (ctx) => {
  await ctx.lk?.stop();
  await ctx.stack?.close();
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(
  lk: Harness,
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; tty?: boolean; answer?: string; fetch?: typeof fetch } = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const [command, ...rest] = argv;
  const code = await runOncallCommand(
    command as OncallCommand,
    rest,
    {
      stdin: Readable.from(opts.answer === undefined ? [] : [opts.answer]),
      isTTY: opts.tty ?? false,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    },
    { env: { LEASEKEEPER_URL: lk.runtime.httpUrl, ...opts.env }, ...(opts.fetch ? { fetch: opts.fetch } : {}) },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}
const withToken = (token: string) => ({ LEASEKEEPER_API_TOKEN: token });

async function clean(stack: Stack, lk: Harness, token: string, pods: readonly IssuedPod[]): Promise<void> {
  await cli(lk, ["revoke", "--namespace", "default", "--reason", "test cleanup", "--yes"], { env: withToken(token) });
  const names = new Set([
    ...pods.map((p) => p.name),
    ...(await stack.core.listNamespacedPod({ namespace: "default" })).items.map((p) => p.metadata?.name ?? ""),
  ]);
  for (const name of names) await stack.core.deleteNamespacedPod({ namespace: "default", name }).catch(() => undefined);
  await waitFor(
    "pods gone",
    async () => (await stack.core.listNamespacedPod({ namespace: "default" })).items.length === 0,
  );
}

t(
  "leases: a table of pods, leases and expiry, never a secret value; without --token, a short leasekeeper-audience token is requested with the kubeconfig",
  async ({ stack, seeded, lk, token }) => {
    const a = await issuedPod(stack, "cli-a");
    const b = await issuedPod(stack, "cli-b");
    const run = await cli(lk, ["leases", "--namespace", "default"], { env: withToken(token) });
    assert.is(run.code, 0, run.err);
    assert.match(run.out, /^POD\s+ROLE\s+STATE\s+LEASE\s+PATH\s+EXPIRES\s+TOKEN EXPIRES\s+NEXT RENEWAL/);
    for (const p of [a, b]) {
      assert.match(
        run.out,
        new RegExp(
          `default/${p.name}\\s+postgres\\s+issued\\s+${p.leaseId.replace(/[/.]/g, "\\$&")}\\s+database/creds/postgres-role\\s+in \\d+m`,
        ),
      );
    }
    assert.match(run.out, /2 pod\(s\), 2 lease\(s\)\./);
    const json = await cli(lk, ["leases", "--pod", "default/cli-a", "-o", "json"], { env: withToken(token) });
    assert.is((JSON.parse(json.out) as { pods: unknown[] }).pods.length, 1);
    const records = await Promise.all([a, b].map((p) => lk.runtime.deps.index.get(p.uid)));
    for (const text of [run.out, json.out]) {
      for (const secret of [
        a.password,
        b.password,
        token,
        seeded.controllerToken,
        stack.vault.rootToken,
        ...records.flatMap((r) => [r?.accessor ?? "-", r?.encryptedToken ?? "-"]),
      ]) {
        assert.not.ok(text.includes(secret), "no secret value, token or accessor in the output");
      }
    }
    const soon = await cli(lk, ["leases", "--namespace", "default", "--expiring-within", "1m"], {
      env: withToken(token),
    });
    assert.is(soon.out, "No pods match.");

    // Without --token the kubeconfig's own token never reaches leasekeeper: a kubeconfig user that is a
    // service account gets a 10-minute token for audience leasekeeper (TokenRequest) instead ...
    await ensureServiceAccount(stack.core, "default", "oncall");
    const saToken = stack.kube.control.issueToken({
      namespace: "default",
      serviceAccount: "oncall",
      expirationSeconds: 3600,
    });
    const sent: string[] = [];
    const spy: typeof fetch = (input, init) => {
      sent.push(new Headers(init?.headers).get("authorization") ?? "");
      return fetch(input, init);
    };
    const audienceOf = (header: string | undefined) =>
      JSON.parse(Buffer.from(header?.split(".")[1] ?? "", "base64url").toString()) as { aud: string[]; sub: string };
    const kubeconfig = join(stack.dir, "oncall.kubeconfig");
    await stack.kube.writeKubeconfig(kubeconfig, { token: saToken });
    const viaKube = await cli(lk, ["leases", "--namespace", "default"], {
      env: { KUBECONFIG: kubeconfig },
      fetch: spy,
    });
    assert.is(viaKube.code, 0, viaKube.err);
    assert.ok(viaKube.out.includes("default/cli-a"));
    assert.ok(sent.length > 0 && sent.every((h) => !h.includes(saToken)), "the kubeconfig token is not sent");
    assert.equal(audienceOf(sent[0]), {
      ...audienceOf(sent[0]),
      aud: ["leasekeeper"],
      sub: "system:serviceaccount:default:oncall",
    });
    // ... also when an exec credential plugin prints the service account's token.
    const execConfig = join(stack.dir, "exec.kubeconfig");
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: saToken },
    });
    writeFileSync(
      execConfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "x",
        clusters: [{ name: "x", cluster: { server: stack.kube.url, "insecure-skip-tls-verify": true } }],
        contexts: [{ name: "x", context: { cluster: "x", user: "exec-user" } }],
        users: [
          {
            name: "exec-user",
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1",
                command: process.execPath,
                args: ["-e", `process.stdout.write(${JSON.stringify(credential)})`],
                interactiveMode: "Never",
              },
            },
          },
        ],
      }),
    );
    sent.length = 0;
    const viaExec = await cli(lk, ["leases", "--namespace", "default"], {
      env: { KUBECONFIG: execConfig },
      fetch: spy,
    });
    assert.is(viaExec.code, 0, viaExec.err);
    assert.ok(viaExec.out.includes("default/cli-b"));
    assert.ok(sent.length > 0 && sent.every((h) => !h.includes(saToken)));
    // A person's kubeconfig (here the cluster admin) is not a service account: refused with the way out,
    // and --service-account names the one to request a token for.
    const asAdmin = await cli(lk, ["leases"], { env: { KUBECONFIG: stack.kubeconfigPath } });
    assert.is(asAdmin.code, 1);
    assert.match(
      asAdmin.err,
      /is not a service account, and leasekeeper is never sent your own kubeconfig credentials: pass --service-account/,
    );
    sent.length = 0;
    const asOncall = await cli(lk, ["leases", "--namespace", "default", "--service-account", "default/oncall"], {
      env: { KUBECONFIG: stack.kubeconfigPath },
      fetch: spy,
    });
    assert.is(asOncall.code, 0, asOncall.err);
    assert.not.ok(
      sent.some((h) => h.includes(stack.kube.adminToken)),
      "the admin's token is not sent",
    );
    assert.is(audienceOf(sent[0]).sub, "system:serviceaccount:default:oncall");
    const badAccount = await cli(lk, ["leases", "--service-account", "oncall"], {
      env: { KUBECONFIG: stack.kubeconfigPath },
    });
    assert.is(badAccount.code, 2);
    // A client-certificate user: the same refusal, no request.
    const certConfig = join(stack.dir, "cert.kubeconfig");
    writeFileSync(
      certConfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "x",
        clusters: [{ name: "x", cluster: { server: stack.kube.url } }],
        contexts: [{ name: "x", context: { cluster: "x", user: "cert-user" } }],
        users: [
          {
            name: "cert-user",
            user: {
              "client-certificate-data": Buffer.from("not a cert").toString("base64"),
              "client-key-data": Buffer.from("not a key").toString("base64"),
            },
          },
        ],
      }),
    );
    const viaCert = await cli(lk, ["leases"], { env: { KUBECONFIG: certConfig } });
    assert.is(viaCert.code, 1);
    assert.match(viaCert.err, /cert-user is not a service account.*--token \/ LEASEKEEPER_API_TOKEN/);
    // --token is sent as it is.
    const viaFlag = await cli(lk, ["leases", "--token", token]);
    assert.is(viaFlag.code, 0, viaFlag.err);
  },
);

t(
  "revoke --dry-run prints what would go and changes nothing; more than one pod is refused without a terminal or --yes",
  async ({ stack, lk, token }) => {
    const [a, b] = await Promise.all(
      ["cli-a", "cli-b"].map(async (name) => {
        const p = await lk.runtime.deps.index.byName("default", name);
        const s = await stack.core.readNamespacedSecret({ namespace: "default", name: `${name}-leasekeeper` });
        return {
          record: p[0],
          user: (JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString()) as { username: string })
            .username,
        };
      }),
    );
    const dry = await cli(lk, ["revoke", "--namespace", "default", "--dry-run"], { env: withToken(token) });
    assert.is(dry.code, 0, dry.err);
    assert.match(
      dry.out,
      /^Dry run: would revoke 2 pod\(s\) with 2 lease\(s\) and their Vault tokens \(namespace default\):/,
    );
    assert.match(dry.out, /POD\s+ROLE\s+STATE\s+REVOKES\s+LEASE\s+PATH\s+LEASE EXPIRES\s+TOKEN EXPIRES/);
    assert.match(
      dry.out,
      /default\/cli-a\s+postgres\s+issued\s+pod \(token \+ Secret\)\s+database\/creds\/postgres-role\/\S+/,
    );
    for (const p of [a, b]) assert.ok(await roleExists(stack, p?.user ?? ""), "dry run changes nothing");

    const noTty = await cli(lk, ["revoke", "--namespace", "default", "--reason", "INC-1"], {
      env: withToken(token),
      answer: "y\n",
    });
    assert.is(noTty.code, 1);
    assert.ok(noTty.out.startsWith("Will revoke 2 pod(s)"), "the dry run is shown first");
    assert.match(
      noTty.err,
      /refusing to revoke 2 pods without confirmation: stdin is not a terminal\. Re-run with --yes/,
    );
    const said = await cli(lk, ["revoke", "--namespace", "default", "--reason", "INC-1"], {
      env: withToken(token),
      tty: true,
      answer: "n\n",
    });
    assert.is(said.code, 1);
    assert.match(said.err, /Revoke the credentials of these 2 pods\? \[y\/N\] /);
    assert.match(said.err, /Aborted; nothing was revoked\./);
    const eof = await cli(lk, ["revoke", "--namespace", "default", "--reason", "INC-1"], {
      env: withToken(token),
      tty: true,
    });
    assert.is(eof.code, 1, "no answer is no");
    for (const p of [a, b]) assert.ok(await roleExists(stack, p?.user ?? ""), "nothing revoked");
    const noReason = await cli(lk, ["revoke", "--namespace", "default", "--yes"], { env: withToken(token) });
    assert.is(noReason.code, 2);
    assert.match(noReason.err, /--reason is required/);

    // The same refusal from the real command line: piped stdin is not a terminal, even with "y" on it.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "cli/main.ts", "revoke", "--namespace", "default", "--reason", "INC-1"],
      {
        env: { ...process.env, LEASEKEEPER_URL: lk.runtime.httpUrl, LEASEKEEPER_API_TOKEN: token },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    child.stdin.end("y\n");
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.is(code, 1);
    assert.match(stderr, /stdin is not a terminal/);
    for (const p of [a, b]) assert.ok(await roleExists(stack, p?.user ?? ""), "nothing revoked");
  },
);

t(
  "revoke --yes revokes (roles dropped); a terminal 'y' confirms; one pod needs no question",
  async ({ stack, lk, token }) => {
    const users = await Promise.all(
      ["cli-a", "cli-b"].map(async (name) => {
        const s = await stack.core.readNamespacedSecret({ namespace: "default", name: `${name}-leasekeeper` });
        return (JSON.parse(Buffer.from(s.data?.["creds.json"] ?? "", "base64").toString()) as { username: string })
          .username;
      }),
    );
    const yes = await cli(lk, ["revoke", "--namespace", "default", "--reason", "INC-2", "--yes"], {
      env: withToken(token),
    });
    assert.is(yes.code, 0, `${yes.out}\n${yes.err}`);
    assert.match(yes.out, /POD\s+OUTCOME\s+LEASES\s+DETAIL/);
    assert.match(yes.out, /default\/cli-a\s+revoked\s+all/);
    assert.match(yes.out, /Done: 2 pod\(s\) handled \(job \S+\)\./);
    for (const u of users) assert.not.ok(await roleExists(stack, u), "PostgreSQL role dropped");
    await clean(stack, lk, token, [{ name: "cli-a" }, { name: "cli-b" }] as IssuedPod[]);

    const c = await issuedPod(stack, "cli-c");
    const d = await issuedPod(stack, "cli-d");
    const one = await cli(lk, ["revoke", "--pod", "default/cli-c", "--reason", "INC-3"], { env: withToken(token) });
    assert.is(one.code, 0, one.err);
    assert.not.ok(await roleExists(stack, c.user));
    assert.ok(await roleExists(stack, d.user));
    await issuedPod(stack, "cli-e").then(async (e) => {
      const tty = await cli(lk, ["revoke", "--workload", "default/deploy/none", "--reason", "x"], {
        env: withToken(token),
      });
      assert.is(tty.code, 0);
      assert.match(tty.out, /Nothing matches Deployment default\/none; nothing to revoke\./);
      const confirmed = await cli(lk, ["revoke", "--prefix", "database/creds/", "--reason", "INC-4"], {
        env: withToken(token),
        tty: true,
        answer: "y\n",
      });
      assert.is(confirmed.code, 0, `${confirmed.out}\n${confirmed.err}`);
      assert.match(confirmed.out, /Will revoke 2 lease\(s\) of 2 pod\(s\)/);
      assert.match(confirmed.out, /leases-revoked\s+database\/creds\/postgres-role\/\S+\s+fresh credentials: job/);
      assert.not.ok(await roleExists(stack, d.user));
      assert.not.ok(await roleExists(stack, e.user));
    });
    await clean(stack, lk, token, [c, d, { name: "cli-e" } as IssuedPod]);
  },
);

t(
  "a partly failing revoke: the CLI names the failed lease and its retry job, exit code 3",
  async ({ stack, lk, token }) => {
    const f = await issuedPod(stack, "cli-f");
    const g = await issuedPod(stack, "cli-g");
    stack.vault.control.failNext("sys/leases/revoke", 1, 500, "injected");
    const run = await cli(lk, ["revoke", "--prefix", "database/creds/", "--reason", "INC-5", "--yes"], {
      env: withToken(token),
    });
    assert.is(run.code, 3, `${run.out}\n${run.err}`);
    const failedLine = run.out.split("\n").find((l) => /\sfailed\s/.test(l)) ?? "";
    const failedPod = failedLine.startsWith("default/cli-f") ? f : g;
    assert.ok(failedLine.includes(failedPod.leaseId), failedLine);
    assert.match(failedLine, /retry: \S+/);
    assert.match(run.out, /Partly failed: 1 of 2 pod\(s\) failed; what failed is queued for retry \(job \S+\)/);
    await waitFor("retried lease revoked", async () => !(await roleExists(stack, failedPod.user)), 20_000);
    await clean(stack, lk, token, [f, g]);
  },
);

t("API errors are printed plainly with a non-zero exit code", async ({ lk, token }) => {
  const bad = await cli(lk, ["leases"], { env: withToken("not-the-right-token") });
  assert.is(bad.code, 1);
  assert.is(bad.err, "leasekeeper leases: 401 invalid_token: the bearer token is not valid");
  const invalid = await cli(lk, ["revoke", "--prefix", "bad prefix!", "--dry-run"], { env: withToken(token) });
  assert.is(invalid.code, 1);
  assert.match(invalid.err, /^leasekeeper revoke: 400 invalid_request: scope\.prefix: /);
  const down = await cli(lk, ["leases", "--server", "http://127.0.0.1:9"], { env: withToken(token) });
  assert.is(down.code, 1);
  assert.match(down.err, /^leasekeeper leases: unreachable: cannot reach http:\/\/127\.0\.0\.1:9/);
  const plain = await cli(lk, ["leases", "--server", "http://leasekeeper.example"], { env: withToken(token) });
  assert.is(plain.code, 2);
  assert.match(plain.err, /refusing to send a bearer token over plain http/);
  const usage = await cli(lk, ["revoke", "--pod", "no-slash", "--dry-run"], { env: withToken(token) });
  assert.is(usage.code, 2);
  assert.match(usage.err, /--pod wants namespace\/name/);
  const unknown = await cli(lk, ["leases", "--bogus"], { env: withToken(token) });
  assert.is(unknown.code, 2);
  const unseal = await cli(lk, ["unseal", "--replica", "vault/none", "--wait", "0"], { env: withToken(token) });
  assert.is(unseal.code, 1);
  assert.match(unseal.err, /^leasekeeper unseal: 40\d \w+: /);
});

t.run();
