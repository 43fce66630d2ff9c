/**
 * Contract: the emulator over HTTPS like a vault-helm deployment with a certificate for the Service
 * names only — a client verifies it with the deployment's CA and one of those names as servername;
 * by IP (no IP SAN) verification fails. The vault-active Service passes TLS through (L4).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { get } from "node:https";
import { connect } from "node:tls";
import vault from "node-vault";
import {
  startVaultActiveService,
  startVaultCluster,
  startVaultEmulator,
  type VaultEmulator,
} from "../emulators/vault/index.ts";

const NAMES = ["vault-active.vault.svc", "vault.vault.svc.cluster.local"];

/** GET over HTTPS; resolves the status or the TLS error code. */
function httpsGet(url: string, opts: { ca?: string; servername?: string }): Promise<number | string> {
  return new Promise((resolve) => {
    const req = get(url, { ca: opts.ca, servername: opts.servername, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", (err: Error & { code?: string }) => resolve(err.code ?? err.message));
  });
}

test("HTTPS with a certificate for the DNS names only; the CA PEM verifies it by name, never by IP", async () => {
  const emu = await startVaultEmulator({ tls: { names: NAMES } });
  try {
    assert.match(emu.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = emu.tls?.caPem ?? "";
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
    const health = `${emu.url}/v1/sys/health`;
    assert.is(await httpsGet(health, { ca, servername: NAMES[0] }), 200);
    assert.is(await httpsGet(health, { ca, servername: NAMES[1] }), 200);
    assert.is(await httpsGet(health, { ca }), "ERR_TLS_CERT_ALTNAME_INVALID", "by IP: no IP SAN");
    assert.is(await httpsGet(health, { servername: NAMES[0] }), "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "without the CA");
    assert.is(await httpsGet(health, { ca, servername: "vault-0.vault-internal" }), "ERR_TLS_CERT_ALTNAME_INVALID");

    const san = await new Promise<string | undefined>((resolve, reject) => {
      const socket = connect(
        { host: "127.0.0.1", port: Number(new URL(emu.url).port), ca, servername: NAMES[0] },
        () => {
          resolve(socket.getPeerX509Certificate()?.subjectAltName);
          socket.end();
        },
      );
      socket.on("error", reject);
    });
    assert.is(san, `DNS:${NAMES[0]}, DNS:${NAMES[1]}`);

    const v = vault({
      apiVersion: "v1",
      endpoint: emu.url,
      token: emu.rootToken,
      requestOptions: { ca, agentOptions: { servername: NAMES[0] } },
    });
    assert.is((await v.status()).sealed, false);
    await v.write("secret/data/tls", { data: { ok: true } });
    assert.ok((await v.list("sys/policies/acl")).data.keys.includes("default"), "LIST (raw-method fallback) over TLS");
  } finally {
    await emu.close();
  }
});

test("an HA cluster shares one CA; the vault-active Service passes TLS through to the active replica", async () => {
  const nodes = await startVaultCluster(2, { ha: true, sealed: false, tls: { names: NAMES } });
  const svc = await startVaultActiveService(nodes);
  try {
    assert.match(svc.url, /^https:/);
    const [a, b] = nodes as [VaultEmulator, VaultEmulator];
    assert.is(a.tls?.caPem, b.tls?.caPem);
    const ca = a.tls?.caPem ?? "";
    assert.is(await httpsGet(`${b.url}/v1/sys/health`, { ca, servername: NAMES[0] }), 429);
    assert.is(await httpsGet(`${svc.url}/v1/sys/health`, { ca, servername: NAMES[0] }), 200);
    a.control.seal();
    await svc.settled();
    assert.is(
      await httpsGet(`${svc.url}/v1/sys/health`, { ca, servername: NAMES[0] }),
      200,
      "now replica 1 behind the same name",
    );
  } finally {
    await svc.close();
    for (const n of nodes) await n.close();
  }
});

test.run();
