/** State of one Kubernetes auth mount: config and roles (names stored lower-cased). */
import type { TokenParams } from "./types.ts";

export interface KubernetesConfig {
  kubernetes_host: string;
  kubernetes_ca_cert: string;
  token_reviewer_jwt: string;
  pem_keys: string[];
  disable_local_ca_jwt: boolean;
  issuer: string;
  disable_iss_validation: boolean;
}

export interface KubernetesRole extends TokenParams {
  name: string;
  bound_service_account_names: string[];
  bound_service_account_namespaces: string[];
  audience: string;
  alias_name_source: string;
}

export interface TokenReviewRecord {
  url: string;
  authorization: string | undefined;
  body: unknown;
  status: number | null;
  error: string | null;
}

export class KubernetesState {
  config: KubernetesConfig | null = null;
  readonly roles = new Map<string, KubernetesRole>();

  /** `reviews`: the TokenReview log, shared by every Kubernetes mount of one emulator. */
  constructor(readonly reviews: TokenReviewRecord[] = []) {}
}

/** GlobbedStringsMatch: exact, or one leading and/or trailing `*`; `["*"]` allows everything. */
export function globMatch(list: string[], value: string): boolean {
  if (list.length === 1 && list[0] === "*") return true;
  return list.some((item) => {
    if (item === value) return true;
    const lead = item.startsWith("*");
    const trail = item.endsWith("*") && item.length > 1;
    const core = item.slice(lead ? 1 : 0, trail ? -1 : undefined);
    if (lead && trail) return value.includes(core);
    if (lead) return value.endsWith(core);
    if (trail) return value.startsWith(core);
    return false;
  });
}
