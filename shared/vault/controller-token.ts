import { readFileSync } from "node:fs";
import { isNetworkError, isVaultUnavailable, messageOf } from "../errors/errors.ts";
import type { Log } from "../observability/log.ts";
import type { VaultAuth } from "../ports/vault-kube.ts";

export interface ControllerTokenSource {
  /** The token to send now (undefined until the first login). */
  current(): string | undefined;
  start(): Promise<void>;
  stop(): void;
}

export interface ControllerLogin {
  readonly role: string;
  readonly authPath: string;
  /** The service account token file (projected; kubelet refreshes it). */
  readonly jwtFile: string;
}

export interface ControllerTokenDeps {
  login(authPath: string, role: string, jwt: string): Promise<VaultAuth>;
  renewSelf(token: string, incrementSeconds: number): Promise<VaultAuth>;
  log: Log;
  /** How often to look again while Vault is sealed, ms (default 1000). */
  sealedRetryMs?: number;
}

/**
 * leasekeeper's own Vault identity. Either a configured token (renewed at 2/3 of its TTL when it
 * is renewable) or a Kubernetes-auth login as leasekeeper's service account with its own role
 * and policy, renewed the same way and logged in again only when its max TTL leaves too little.
 */
/**
 * Vault caps renewals at the token's max TTL, so an answer shorter than asked is normal (with
 * token_ttl = token_max_ttl it is every answer). The next refresh comes at 2/3 of what was
 * granted; log in again only when the third left then would not leave room to do it (30 s, or a
 * quarter of the token's first TTL when that is shorter).
 */
export function mustLoginAgain(grantedSeconds: number, fullTtlSeconds: number): boolean {
  return grantedSeconds / 3 < Math.min(30, fullTtlSeconds / 4);
}

export function controllerToken(
  staticToken: string | undefined,
  login: ControllerLogin | undefined,
  deps: ControllerTokenDeps,
): ControllerTokenSource {
  let token = staticToken;
  let ttlSeconds = 0;
  /** The TTL the token started with: what each renewal asks for again. */
  let fullTtlSeconds = 0;
  let expiresAt = Number.POSITIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  const doLogin = async () => {
    if (!login) return;
    const jwt = readFileSync(login.jwtFile, "utf8").trim();
    const auth = await deps.login(login.authPath, login.role, jwt);
    token = auth.token;
    ttlSeconds = auth.ttlSeconds;
    fullTtlSeconds = auth.ttlSeconds;
    expiresAt = ttlSeconds > 0 ? Date.now() + ttlSeconds * 1000 : Number.POSITIVE_INFINITY;
    deps.log.info({ role: login.role, ttlSeconds }, "logged in to Vault as leasekeeper");
  };

  const schedule = (inSeconds: number) => {
    if (stopped || inSeconds <= 0) return;
    timer = setTimeout(() => void refresh(), Math.max(1000, inSeconds * 1000 * (2 / 3)));
    timer.unref();
  };

  /**
   * After a failure: try again soon, well before what is left of the token runs out. Without a
   * token yet (Vault sealed or unreachable at start) every lifecycle call waits for it, so the
   * first tries come after 1, 2, 4 … s.
   */
  const retrySoon = () => {
    if (stopped) return;
    failures++;
    const left = expiresAt - Date.now();
    const backoff = Math.min(15_000, 1000 * 2 ** (failures - 1));
    const delay = token ? Math.min(15_000, Math.max(1000, Number.isFinite(left) ? left / 4 : 15_000)) : backoff;
    timer = setTimeout(() => void refresh(), delay);
    timer.unref();
  };

  /**
   * Vault is sealed, or not reachable (a sealed Vault's Service has no endpoints) — at start
   * usually, since leasekeeper is what unseals it. Nothing is wrong with the token: say so once,
   * look again every sealedRetryMs, and carry on when Vault answers.
   */
  let waiting = false;
  const waitForVault = (err: unknown, what: string, again: () => Promise<void>) => {
    if (stopped) return;
    if (!waiting)
      deps.log.info(
        { error: messageOf(err) },
        `Vault is ${isVaultUnavailable(err) && err.reason === "sealed" ? "sealed" : "not reachable"}; ${what} once it answers`,
      );
    waiting = true;
    timer = setTimeout(() => void again(), deps.sealedRetryMs ?? 1000);
    timer.unref();
  };
  const answered = () => {
    if (waiting) deps.log.info({ ttlSeconds }, "Vault answers again; leasekeeper's Vault token is current");
    waiting = false;
  };
  const vaultAway = (err: unknown) => isVaultUnavailable(err) || isNetworkError(err);

  const refresh = async () => {
    try {
      if (!token) throw new Error("no token yet");
      const auth = await deps.renewSelf(token, fullTtlSeconds || ttlSeconds);
      if (login && mustLoginAgain(auth.ttlSeconds, fullTtlSeconds)) {
        await doLogin();
      } else {
        ttlSeconds = auth.ttlSeconds;
        expiresAt = ttlSeconds > 0 ? Date.now() + ttlSeconds * 1000 : Number.POSITIVE_INFINITY;
      }
      answered();
    } catch (err) {
      // Sealed: the token cannot be renewed now, nor would a login work; it is renewed on unseal.
      if (vaultAway(err) && token) {
        waitForVault(err, "leasekeeper renews its Vault token", refresh);
        return;
      }
      deps.log.warn({ error: messageOf(err) }, "could not renew leasekeeper's Vault token");
      // Log in again only when the token is gone or nearly so; a passing error is retried.
      const nearlyGone = !token || expiresAt - Date.now() < 30_000;
      if (login && nearlyGone) {
        try {
          await doLogin();
        } catch (e) {
          deps.log.error({ error: messageOf(e) }, "Vault login as leasekeeper failed; retrying");
          retrySoon();
          return;
        }
      } else {
        retrySoon();
        return;
      }
    }
    failures = 0;
    schedule(ttlSeconds > 0 ? ttlSeconds : 15);
  };

  /** The first login (role) or the first look at a configured token's TTL. */
  const begin = async (): Promise<void> => {
    if (stopped) return;
    if (login) {
      try {
        await doLogin();
      } catch (err) {
        if (vaultAway(err)) return waitForVault(err, "leasekeeper logs in to Vault", begin);
        // Vault may be starting or unreachable: leasekeeper must still run (it is what unseals it).
        deps.log.error({ error: messageOf(err) }, "Vault login as leasekeeper failed; retrying in the background");
        retrySoon();
        return;
      }
    } else if (token) {
      // Learn the TTL of a configured token; a non-renewable or root token needs nothing.
      try {
        const auth = await deps.renewSelf(token, 0);
        ttlSeconds = auth.renewable ? auth.ttlSeconds : 0;
        fullTtlSeconds = ttlSeconds;
      } catch (err) {
        if (vaultAway(err)) return waitForVault(err, "leasekeeper checks its Vault token", begin);
        deps.log.warn(
          { error: messageOf(err) },
          "leasekeeper's Vault token could not be renewed; it is used until it expires",
        );
      }
    }
    answered();
    schedule(ttlSeconds);
  };

  return {
    current: () => token,
    start: begin,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
