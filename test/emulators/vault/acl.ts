/** ACL policy store and evaluation: exact paths, `+` segment globs, trailing `*` prefixes, deny. */
import { parsePolicy, type PathRule } from "./hcl.ts";
import type { Operation } from "./types.ts";

export const DEFAULT_POLICY = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to renew a lease via lease_id in the request body; old path for
# old clients, new path for newer
path "sys/renew" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}

# Allow looking up lease properties. This requires knowing the lease ID ahead
# of time and does not divulge any sensitive information.
path "sys/leases/lookup" {
    capabilities = ["update"]
}

# Allow a token to make requests to the Authorization Endpoint for OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
`;

interface Compiled {
  pattern: string;
  regex: RegExp;
  caps: Set<string>;
}

function compile(pattern: string): RegExp {
  const glob = pattern.endsWith("*");
  const body = glob ? pattern.slice(0, -1) : pattern;
  const src = body
    .split("/")
    .map((seg) => (seg === "+" ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${src}${glob ? "[\\s\\S]*" : ""}$`);
}

/** Vault's priority between two matching glob patterns: true when a is the better match. */
function better(a: string, b: string): boolean {
  const wild = (p: string) => {
    const i = p.search(/\+|\*/);
    return i === -1 ? p.length : i;
  };
  if (wild(a) !== wild(b)) return wild(a) > wild(b);
  if (a.endsWith("*") !== b.endsWith("*")) return !a.endsWith("*");
  const plus = (p: string) => p.split("/").filter((s) => s === "+").length;
  if (plus(a) !== plus(b)) return plus(a) < plus(b);
  if (a.length !== b.length) return a.length > b.length;
  return a > b;
}

const REQUIRED: Record<Operation, string[]> = {
  read: ["read"],
  list: ["list"],
  update: ["update", "create"],
  delete: ["delete"],
  patch: ["patch"],
};

export class PolicyStore {
  private readonly texts = new Map<string, string>();
  private readonly rules = new Map<string, PathRule[]>();

  constructor() {
    this.set("default", DEFAULT_POLICY);
  }

  /** Parses and stores; throws Error with the parser's text on bad HCL. */
  set(name: string, text: string): void {
    const parsed = parsePolicy(text);
    this.texts.set(name, text);
    this.rules.set(name, parsed);
  }

  get(name: string): string | undefined {
    return this.texts.get(name);
  }

  delete(name: string): void {
    this.texts.delete(name);
    this.rules.delete(name);
  }

  names(): string[] {
    return [...this.texts.keys(), "root"].sort();
  }

  /** True when the policies grant the operation (and sudo when required) on path. */
  allows(policies: string[], path: string, op: Operation, sudo: boolean): boolean {
    if (policies.includes("root")) return true;
    const merged = new Map<string, Compiled>();
    for (const name of policies) {
      for (const rule of this.rules.get(name) ?? []) {
        const existing = merged.get(rule.pattern);
        if (existing) for (const c of rule.capabilities) existing.caps.add(c);
        else
          merged.set(rule.pattern, {
            pattern: rule.pattern,
            regex: compile(rule.pattern),
            caps: new Set(rule.capabilities),
          });
      }
    }
    let best: Compiled | undefined = merged.get(path);
    if (best && /[+*]/.test(best.pattern)) best = undefined;
    if (!best) {
      for (const c of merged.values()) {
        if (!c.regex.test(path)) continue;
        if (!best || better(c.pattern, best.pattern)) best = c;
      }
    }
    if (!best || best.caps.has("deny")) return false;
    const caps = best.caps;
    if (!REQUIRED[op].some((c) => caps.has(c))) return false;
    return !sudo || caps.has("sudo");
  }
}
