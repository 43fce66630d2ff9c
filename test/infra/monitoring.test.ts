/**
 * infra/monitoring: every metric the Grafana dashboard and the PrometheusRule query exists in
 * leasekeeper's registry (createMetrics(), which includes the unseal metrics), and the alerts the
 * issue asks for are there.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createMetrics } from "../../shared/observability/metrics.ts";
import { INFRA_DIR, parseYaml } from "../helpers/rbac.ts";

const dashboard = JSON.parse(readFileSync(join(INFRA_DIR, "monitoring", "grafana-dashboard.json"), "utf8")) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const rule = parseYaml(readFileSync(join(INFRA_DIR, "monitoring", "prometheusrule.yaml"), "utf8"))[0] as {
  spec: { groups: { rules: { alert: string; expr: string }[] }[] };
};
const alerts = rule.spec.groups.flatMap((g) => g.rules);

/** Series names a PromQL expression selects (leasekeeper_* identifiers not followed by "(" ). */
const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\b(leasekeeper_[a-z0-9_]+)\b(?!\s*\()/g)].map((m) => m[1] as string);

async function registryNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await createMetrics().registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${m.name}${suffix}`);
  }
  return names;
}

test("every metric the dashboard queries exists in leasekeeper's registry", async () => {
  const names = await registryNames();
  const queried = dashboard.panels.flatMap((p) =>
    p.targets.flatMap((t) => metricNames(t.expr).map((n) => ({ panel: p.title, n }))),
  );
  assert.ok(queried.length >= 20, "the dashboard queries leasekeeper's metrics");
  assert.equal(
    queried.filter((q) => !names.has(q.n)),
    [],
  );
});

test("every metric the alerts query exists", async () => {
  const names = await registryNames();
  const missing = alerts.flatMap((a) =>
    metricNames(a.expr)
      .filter((n) => !names.has(n))
      .map((n) => `${a.alert}: ${n}`),
  );
  assert.equal(missing, []);
});

test("the alerts issue 7 asks for are defined", () => {
  const byName = new Map(alerts.map((a) => [a.alert, a.expr]));
  for (const [alert, metric] of [
    ["LeasekeeperLeaseNearExpiry", "leasekeeper_credentials_earliest_expiry_seconds"],
    ["LeasekeeperRenewFailures", "leasekeeper_job_failures_total"],
    ["LeasekeeperRevokeFailures", "leasekeeper_job_failures_total"],
    ["LeasekeeperUnsealFailed", "leasekeeper_unseal_attempts_total"],
    ["LeasekeeperQueueBacklog", "leasekeeper_queue_jobs"],
    ["LeasekeeperWatcherNotSynced", "leasekeeper_watch_synced"],
    ["LeasekeeperVaultUnavailable", "leasekeeper_vault_sealed_waits_total"],
  ] as const)
    assert.ok(byName.get(alert)?.includes(metric), `${alert} on ${metric}`);
});

test.run();
