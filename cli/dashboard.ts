import type { ApiClient } from "./http-client.ts";
import type { OutputIo } from "./revoke.ts";

/** `leasekeeper dashboard`: a one-time login link to /admin/queues for a browser (POST /admin/login-links). */
export async function runDashboard(api: ApiClient, io: OutputIo): Promise<number> {
  const { body } = await api.post<{ path: string; expiresAt: string; sessionSeconds: number }>(
    "/admin/login-links",
    undefined,
  );
  io.out(`${api.server}${body.path}`);
  io.err(
    `Open it in a browser within 60 s (it works once, until ${body.expiresAt}); the dashboard session then lasts ${Math.round(body.sessionSeconds / 60)} minutes.`,
  );
  return 0;
}
