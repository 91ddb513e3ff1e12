// The Grafana dashboard: a well-formed model (unique ids, every panel on the grid and on the
// datasource variable), every query valid PromQL for Prometheus 2.42 (promtool parses each one as
// a recording rule), and a panel for each thing the on-call engineer needs. Whether the metric
// names exist is proven against real processes in metric-names.integration.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { promtool } from "../../test/support/promtool";
import { dashboardQueries, expandDashboardVariables, loadDashboard } from "./monitoring-files";

const dashboard = loadDashboard();
const queries = dashboardQueries(dashboard);
const scratch = mkdtempSync(join(tmpdir(), "chatapi-dashboard-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("dashboard.json", () => {
  it("is a Grafana model with unique panel ids, grid positions and the datasource variable", () => {
    expect(dashboard.uid).toBe("chatapi-overview");
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(["datasource", "namespace"]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels as unknown as Array<
      Record<string, unknown> & { type: string; title: string }
    >) {
      expect(panel.gridPos, panel.title).toMatchObject({ w: expect.any(Number), h: expect.any(Number) });
      if (panel.type === "row") continue;
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect((panel.targets as unknown[]).length, panel.title).toBeGreaterThan(0);
    }
  });

  it("selects every series by the namespace variable, so one Prometheus can hold several stacks", () => {
    for (const q of queries) {
      const selectors = q.expr.match(/[a-z_]+\{[^}]*\}/g) ?? [];
      expect(selectors.length, q.panel).toBeGreaterThan(0);
      for (const s of selectors) expect(s, q.panel).toContain('namespace=~"$namespace"');
    }
  });

  it("has only queries that Prometheus 2.42 parses", async () => {
    const rules = {
      groups: [
        {
          name: "dashboard",
          rules: queries.map((q, i) => ({
            record: `dashboard:query_${i}`,
            expr: expandDashboardVariables(q.expr),
          })),
        },
      ],
    };
    const file = join(scratch, "dashboard-queries.yaml");
    writeFileSync(file, stringify(rules));
    const result = await promtool(["check", "rules", file]);
    expect(result.output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(result.code).toBe(0);
    // promtool really parses them: a broken query is refused.
    rules.groups[0]!.rules.push({ record: "dashboard:broken", expr: "sum(rate(http_requests_total[5m])" });
    writeFileSync(file, stringify(rules));
    expect((await promtool(["check", "rules", file])).code).not.toBe(0);
  });

  it("shows traffic, errors, latency, sockets, deliveries, write batches, queue depth and backups", () => {
    const all = queries.map((q) => q.expr).join("\n");
    for (const metric of [
      "http_requests_total",
      'status=~"5.."',
      "http_request_duration_seconds_bucket",
      "chatapi_websocket_connections",
      "chatapi_messages_delivered_total",
      "chatapi_message_write_batch_size_bucket",
      "chatapi_queue_messages",
      "chatapi_backup_last_success_timestamp_seconds",
    ]) {
      expect(all).toContain(metric);
    }
  });
});
