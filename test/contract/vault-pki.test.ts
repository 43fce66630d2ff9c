/** Contract: the Vault emulator's PKI mount issues real X.509 certificates (spec §10). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import vault from "node-vault";
import { startVaultEmulator, type VaultEmulator } from "../emulators/vault/index.ts";
import { failure } from "../emulators/vault/testing.ts";

let emu: VaultEmulator;
const root = () => vault({ apiVersion: "v1", endpoint: emu.url, token: emu.rootToken });

interface IssueData {
  certificate: string;
  issuing_ca: string;
  ca_chain: string[];
  private_key: string;
  private_key_type: string;
  serial_number: string;
  expiration: number;
}

test.before(async () => {
  emu = await startVaultEmulator();
  await root().write("pki/roles/web", {
    allowed_domains: "example.com",
    allow_subdomains: true,
    max_ttl: "72h",
    ttl: "24h",
  });
  await root().write("pki/roles/ec", {
    allowed_domains: "example.com",
    allow_subdomains: true,
    key_type: "ec",
    generate_lease: true,
    ttl: "1h",
  });
});
test.after(async () => {
  await emu.close();
});

test("issue: a certificate signed by the issuing CA, for the asked names, with the matching private key", async () => {
  const res = (await root().write("pki/issue/web", {
    common_name: "app.example.com",
    alt_names: "www.example.com",
    ip_sans: "10.0.0.7",
  })) as { data: IssueData; lease_id: string; lease_duration: number; renewable: boolean };
  const cert = new X509Certificate(res.data.certificate);
  const ca = new X509Certificate(res.data.issuing_ca);
  assert.ok(cert.verify(ca.publicKey), "signature verifies with the CA key");
  assert.ok(cert.checkIssued(ca));
  assert.ok(ca.ca, "issuing CA is a CA");
  assert.not.ok(cert.ca);
  assert.is(cert.subject, "CN=app.example.com");
  assert.match(cert.subjectAltName ?? "", /DNS:app\.example\.com, DNS:www\.example\.com, IP Address:10\.0\.0\.7/);
  assert.ok(cert.checkPrivateKey(createPrivateKey(res.data.private_key)));
  assert.match(res.data.private_key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.is(res.data.private_key_type, "rsa");
  assert.equal(res.data.ca_chain, [res.data.issuing_ca]);
  assert.match(res.data.serial_number, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  assert.is(
    cert.serialNumber.toLowerCase().replace(/^0+/, ""),
    res.data.serial_number.replaceAll(":", "").replace(/^0+/, ""),
  );
  const notAfter = Date.parse(cert.validTo);
  assert.ok(Math.abs(notAfter / 1000 - res.data.expiration) <= 1);
  assert.ok(Math.abs(notAfter - (Date.now() + 24 * 3600_000)) < 5_000, "role ttl");
  assert.is(res.lease_id, "", "no lease unless generate_lease");
  assert.is(res.renewable, false);
  const ttlCapped = (await root().write("pki/issue/web", { common_name: "x.example.com", ttl: "1000h" })) as {
    data: IssueData;
    warnings: string[];
  };
  assert.ok(Math.abs(ttlCapped.data.expiration * 1000 - (Date.now() + 72 * 3600_000)) < 5_000, "capped at max_ttl");
  assert.ok(ttlCapped.warnings.length > 0);
});

test("issue: EC keys and generate_lease give a non-renewable lease under the caller's token", async () => {
  const res = (await root().write("pki/issue/ec", { common_name: "db.example.com", private_key_format: "pkcs8" })) as {
    data: IssueData;
    lease_id: string;
    lease_duration: number;
    renewable: boolean;
  };
  assert.is(res.data.private_key_type, "ec");
  assert.match(res.data.private_key, /^-----BEGIN PRIVATE KEY-----\n/);
  const cert = new X509Certificate(res.data.certificate);
  assert.ok(cert.checkPrivateKey(createPrivateKey(res.data.private_key)));
  assert.is(createPublicKey(res.data.private_key).asymmetricKeyType, "ec");
  assert.match(res.lease_id, /^pki\/issue\/ec\//);
  assert.ok(res.lease_duration > 3500 && res.lease_duration <= 3600);
  assert.is(res.renewable, false);
});

test("issue: policy violations and unknown roles are 400 with Vault's text", async () => {
  const bad = await failure(root().write("pki/issue/web", { common_name: "evil.org" }));
  assert.is(bad.status, 400);
  assert.is(bad.message, "common name evil.org not allowed by this role");
  const bare = await failure(root().write("pki/issue/web", { common_name: "example.com" }));
  assert.is(bare.message, "common name example.com not allowed by this role");
  const unknown = await failure(root().write("pki/issue/nope", { common_name: "a.example.com" }));
  assert.is(unknown.status, 400);
  assert.is(unknown.message, "unknown role: nope");
  const san = await failure(root().write("pki/issue/web", { common_name: "a.example.com", alt_names: "b.other.org" }));
  assert.is(san.message, "subject alternate name b.other.org not allowed by this role");
});

test("the CA certificate is readable without a token and is the issuer", async () => {
  const res = (await vault({ apiVersion: "v1", endpoint: emu.url }).read("pki/cert/ca")) as {
    data: { certificate: string };
  };
  const issued = (await root().write("pki/issue/web", { common_name: "c.example.com" })) as { data: IssueData };
  assert.is(res.data.certificate, issued.data.issuing_ca);
});

test.run();
