import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { HonoAdapter } from "@bull-board/hono";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Queue } from "bullmq";
import type { Hono } from "hono";

/**
 * The BullMQ dashboard (bull-board) as a Hono app for /admin/queues. Node only (it serves
 * its UI files from disk); api.ts mounts it behind the same authentication (get queues.leasekeeper.io).
 */
export function adminQueuesApp(queues: readonly Queue[], basePath = "/admin/queues"): Hono {
  const adapter = new HonoAdapter(serveStatic);
  adapter.setBasePath(basePath);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })), serverAdapter: adapter });
  return adapter.registerPlugin();
}
