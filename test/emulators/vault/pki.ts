/** The `pki/` mount: roles, `issue/<role>` with real X.509 certificates (spec §10), the CA certificate. */
import type { Core } from "./core-types.ts";
import { badRequest, emptyError } from "./errors.ts";
import { emptyReply, logical } from "./envelope.ts";
import { optBool, optDuration, optInt, optString, optStrings } from "./fields.ts";
import type { PkiRole } from "./pki-state.ts";
import type { Reply, Route, VaultRequest } from "./types.ts";
import { buildCertificate, generateKey, privateKeyPem } from "./x509-build.ts";
import { leaseOwner } from "./leases.ts";

const MOUNT = "pki";
const MOUNT_MAX_TTL = 32 * 24 * 3600;

function writeRole(core: Core, req: VaultRequest, name: string): Reply {
  const d = req.data;
  const old = core.pki.roles.get(name);
  const keyType = optString(d, "key_type") ?? old?.key_type ?? "rsa";
  if (!["rsa", "ec", "any"].includes(keyType)) throw badRequest(`unknown key type ${keyType}`);
  const role: PkiRole = {
    name,
    allowed_domains: optStrings(d, "allowed_domains") ?? old?.allowed_domains ?? [],
    allow_subdomains: optBool(d, "allow_subdomains") ?? old?.allow_subdomains ?? false,
    allow_bare_domains: optBool(d, "allow_bare_domains") ?? old?.allow_bare_domains ?? false,
    allow_any_name: optBool(d, "allow_any_name") ?? old?.allow_any_name ?? false,
    allow_localhost: optBool(d, "allow_localhost") ?? old?.allow_localhost ?? true,
    allow_ip_sans: optBool(d, "allow_ip_sans") ?? old?.allow_ip_sans ?? true,
    key_type: keyType as PkiRole["key_type"],
    key_bits: optInt(d, "key_bits") ?? old?.key_bits ?? (keyType === "ec" ? 256 : 2048),
    ttl: optDuration(d, "ttl") ?? old?.ttl ?? 0,
    max_ttl: optDuration(d, "max_ttl") ?? old?.max_ttl ?? 0,
    generate_lease: optBool(d, "generate_lease") ?? old?.generate_lease ?? false,
  };
  core.pki.roles.set(name, role);
  return emptyReply();
}

function nameAllowed(role: PkiRole, name: string): boolean {
  if (role.allow_any_name) return true;
  if (role.allow_localhost && (name === "localhost" || name === "localdomain")) return true;
  return role.allowed_domains.some((domain) => {
    if (name === domain) return role.allow_bare_domains;
    if (domain.startsWith("*."))
      return name.endsWith(domain.slice(1)) && !name.slice(0, -domain.length + 1).includes(".");
    return role.allow_subdomains && name.endsWith(`.${domain}`) && /^[a-z0-9*]([-a-z0-9.]*)$/i.test(name);
  });
}

function issue(core: Core, req: VaultRequest, roleName: string): Reply {
  const role = core.pki.roles.get(roleName);
  if (!role) throw badRequest(`unknown role: ${roleName}`);
  if (role.key_type === "any")
    throw badRequest('role key type "any" not allowed for issuing certificates, only signing');
  const d = req.data;
  const cn = optString(d, "common_name") ?? "";
  if (cn === "")
    throw badRequest(
      'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false',
    );
  if (!nameAllowed(role, cn)) throw badRequest(`common name ${cn} not allowed by this role`);
  const alt = optStrings(d, "alt_names") ?? [];
  for (const n of alt)
    if (!nameAllowed(role, n)) throw badRequest(`subject alternate name ${n} not allowed by this role`);
  const ips = optStrings(d, "ip_sans") ?? [];
  if (ips.length > 0 && !role.allow_ip_sans)
    throw badRequest(`IP Subject Alternative Names are not allowed in this role, but was provided ${ips.join(",")}`);
  const now = core.clock.now();
  const ca = core.pki.ca(now);
  const maxTtl = role.max_ttl > 0 ? role.max_ttl : MOUNT_MAX_TTL;
  let ttl = optDuration(d, "ttl") ?? (role.ttl > 0 ? role.ttl : maxTtl);
  const warnings: string[] = [];
  if (ttl > maxTtl) {
    warnings.push(`TTL "${ttl}s" is longer than permitted maxTTL "${maxTtl}s", so maxTTL is being used`);
    ttl = maxTtl;
  }
  const notAfter = Math.min(now + ttl * 1000, ca.notAfter);
  const key = generateKey(role.key_type, role.key_bits);
  const exclude = optBool(d, "exclude_cn_from_sans") ?? false;
  const dnsNames = [...new Set([...(exclude ? [] : [cn]), ...alt])];
  const cert = buildCertificate({
    subjectCn: cn,
    issuerCn: ca.commonName,
    publicKey: key.publicKey,
    signer: ca.key,
    issuerKeyId: ca.cert.keyId,
    notBefore: now - 30_000,
    notAfter,
    isCa: false,
    dnsNames,
    ipSans: ips,
  });
  const serial = cert.serialHex.match(/../g)?.join(":") ?? "";
  core.pki.issued.push({ serial, notAfter, commonName: cn, revokedAt: null });
  const data = {
    certificate: cert.pem,
    issuing_ca: ca.cert.pem,
    ca_chain: [ca.cert.pem],
    private_key: privateKeyPem(key, optString(d, "private_key_format") === "pkcs8"),
    private_key_type: key.type,
    serial_number: serial,
    expiration: Math.floor(notAfter / 1000),
  };
  let lease: { id: string; duration: number; renewable: boolean } | undefined;
  if (role.generate_lease && req.token) {
    const duration = Math.max(0, Math.floor((notAfter - now) / 1000));
    const entry = core.leases.register({
      path: `pki/issue/${roleName}`,
      ...leaseOwner(req.token),
      ttl: duration,
      defaultTtl: duration,
      maxTtl: duration,
      renewable: false,
      backend: {
        revoke: async () => {
          const c = core.pki.issued.find((x) => x.serial === serial);
          if (c) c.revokedAt = core.clock.now();
        },
      },
    });
    lease = { id: entry.id, duration: Math.round((entry.expireAt - now) / 1000), renewable: false };
  }
  return logical({ data, warnings, mountType: MOUNT, ...(lease ? { lease } : {}) });
}

export function pkiRoutes(core: Core): Route[] {
  return [
    {
      pattern: /^pki\/roles\/([^/]+)$/,
      ops: {
        update: (req, m) => writeRole(core, req, m[1] ?? ""),
        read: (_req, m) => {
          const role = core.pki.roles.get(m[1] ?? "");
          if (!role) throw emptyError(404);
          return logical({ data: { ...role, name: undefined }, mountType: MOUNT });
        },
        delete: (_req, m) => (core.pki.roles.delete(m[1] ?? ""), emptyReply()),
      },
    },
    { pattern: /^pki\/issue\/([^/]+)$/, ops: { update: (req, m) => issue(core, req, m[1] ?? "") } },
    {
      pattern: /^pki\/root\/generate\/internal$/,
      ops: {
        update: (req) => {
          const cn = optString(req.data, "common_name") ?? "";
          if (cn === "") throw badRequest("the common_name field is required");
          const ca = core.pki.generateRoot(cn, optDuration(req.data, "ttl") ?? MOUNT_MAX_TTL, core.clock.now());
          return logical({
            data: {
              certificate: ca.cert.pem,
              issuing_ca: ca.cert.pem,
              serial_number: ca.cert.serialHex.match(/../g)?.join(":") ?? "",
              expiration: Math.floor(ca.notAfter / 1000),
            },
            mountType: MOUNT,
          });
        },
      },
    },
    {
      pattern: /^pki\/cert\/ca$/,
      unauthenticated: true,
      ops: { read: () => logical({ data: { certificate: core.pki.ca(core.clock.now()).cert.pem }, mountType: MOUNT }) },
    },
  ];
}
