// deploy/prometheus and deploy/grafana against promtool and the live service: the rule files pass
// `promtool check rules` and their unit tests (`promtool test rules`), `promtool check metrics` accepts
// the live /metrics text, and every metric a rule or a dashboard panel reads is one the service exports
// (or one named below as coming from elsewhere). promtool is Debian's `prometheus` package (.ci/run
// installs it). The file checks run once, in the PGlite project; the live checks run in both.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestService, type TestService, testDatabaseKind } from './support/service.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RULES = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = ['alerts.test.yml', 'alerts.long.test.yml'].map((f) =>
  path.join(ROOT, 'deploy/prometheus', f),
);
const DASHBOARD = path.join(ROOT, 'deploy/grafana/payment-service.json');

/** Metrics the rules read that other exporters publish (each rule says which). */
const EXTERNAL = new Set([
  'pg_up', // postgres_exporter
  'container_memory_working_set_bytes', // the kubelet's cAdvisor
  'kube_pod_container_resource_limits', // kube-state-metrics
  'kube_pod_container_status_restarts_total', // kube-state-metrics
]);
/** Metrics the rules read that this service does not export yet. */
const NOT_YET_EXPORTED = new Set<string>([]);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
}

const rules = (): Rule[] =>
  (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

function promtool(args: string[], input?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', args, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('promtool is not installed: apt-get install -y prometheus (.ci/run does)'));
        return;
      }
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(input ?? '');
  });
}

// PromQL words that are not metric names.
const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring ' +
    'group_left group_right and or unless bool offset rate irate increase delta idelta deriv histogram_quantile ' +
    'clamp clamp_min clamp_max abs ceil floor round sqrt exp ln log2 log10 vector scalar time timestamp ' +
    'label_replace label_join sort sort_desc absent absent_over_time changes resets predict_linear ' +
    'avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time ' +
    'last_over_time present_over_time stddev_over_time day_of_week hour minute inf nan'
  ).split(' '),
);

/** The metric names a PromQL expression reads: selectors, less strings, matchers, ranges and modifiers. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?[\dsmhdwy]+/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w.$])[A-Za-z_:][\w:]*/g)].map((m) => m[0]);
  return [...new Set(names.filter((name) => !PROMQL_WORDS.has(name.toLowerCase())))];
}

/** Every sample name /metrics can carry: each family, and a histogram's _bucket, _sum and _count. */
function exportedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
const dashboardPanels = (): Panel[] => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
};

describe.runIf(testDatabaseKind() === 'pglite')(
  'deploy/prometheus rule files (checked once, in the PGlite project)',
  () => {
    it('pass promtool check rules', async () => {
      const { code, output } = await promtool(['check', 'rules', RULES]);
      expect(output).toMatch(/SUCCESS: \d+ rules found/);
      expect(code, output).toBe(0);
    });

    it('pass their promtool unit tests', async () => {
      const { code, output } = await promtool(['test', 'rules', ...RULE_TESTS]);
      expect(code, output).toBe(0);
      expect(output).not.toMatch(/FAILED/);
    });

    it('give every alert a severity, a summary and a runbook anchor in docs/runbook.md', () => {
      const alerts = rules().filter((r) => r.alert);
      expect(alerts.length).toBeGreaterThanOrEqual(25);
      for (const rule of alerts) {
        expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
        expect(rule.annotations?.summary, rule.alert).toBeTruthy();
        expect(rule.annotations?.runbook, rule.alert).toBe(`docs/runbook.md#${rule.alert!.toLowerCase()}`);
      }
    });

    it('name every alert the runbooks ask for', () => {
      const names = new Set(rules().map((r) => r.alert));
      for (const name of [
        'PaymentSuccessRateLow', // 001, 002: success rate < 95%
        'HighPaymentFailureRate', // 003: failure rate > 10%
        'FailedPaymentsHigh', // 002: > 50 failed an hour
        'PaymentServiceHighLatency', // 000, 002: p95 > 500 ms
        'PaymentProcessingLatency', // 003: p99 > 3 s
        'PaymentServiceResponseTimeCritical', // 001: > 2 s
        'NoSuccessfulPayments', // 002: none for 300 s
        'StripeWebhookDelay', // 002
        'WebhookProcessingSlow', // 002: > 3 s
        'PaymentGatewayWebhookFailures', // 004: > 3 consecutive
        'DatabaseConnectionPoolExhausted', // 003: > 90%
        'PaymentServiceHighErrorRate', // 000: > 1%
        'PaymentEndpointsErrorRateHigh', // 004: > 5%
        'DisputeRateHigh', // 002: > 1%
        'RefundRateHigh', // 002: > 5%
        'PaymentVolumeAnomaly', // 003: > 20% off baseline
        'PaymentsStuckPending', // 004: > 30 minutes
        'PaymentProviderCircuitOpen', // 000, 003
        'PaymentServiceMemoryHigh', // 001: > 85%
        'PaymentServicePodRestarting', // 001: > 3 in 10 minutes
        'PaymentServiceErrorBudgetBurnFast', // 000: 99.9% SLO
        'PaymentServiceErrorBudgetBurnSlow',
      ]) {
        expect(names.has(name), name).toBe(true);
      }
    });

    it('take histogram quantiles over rates of _bucket series, never over raw buckets', () => {
      for (const rule of rules()) {
        const name = rule.alert ?? rule.record;
        if (rule.expr.includes('histogram_quantile')) expect(rule.expr, name).toMatch(/_bucket\b/);
        for (const match of rule.expr.matchAll(/\w+_bucket\b/g)) {
          expect(
            rule.expr.slice(0, match.index).endsWith('rate('),
            `${name}: ${match[0]} inside rate()`,
          ).toBe(true);
        }
      }
    });

    it('have a firing and a quiet unit test for every alert', () => {
      const firing = new Set<string>();
      const quiet = new Set<string>();
      for (const file of RULE_TESTS) {
        for (const group of (parse(readFileSync(file, 'utf8')) as { tests: RuleTest[] }).tests) {
          for (const check of group.alert_rule_test ?? []) {
            (check.exp_alerts?.length ? firing : quiet).add(check.alertname);
          }
        }
      }
      for (const rule of rules().filter((r) => r.alert)) {
        expect(firing.has(rule.alert!), `${rule.alert} fires in a test`).toBe(true);
        expect(quiet.has(rule.alert!), `${rule.alert} stays quiet in a test`).toBe(true);
      }
    });

    it.runIf(existsSync(path.join(ROOT, 'docs/runbook.md')))('point at headings docs/runbook.md has', () => {
      const text = readFileSync(path.join(ROOT, 'docs/runbook.md'), 'utf8');
      const anchors = new Set<string>();
      for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)) {
        anchors.add(
          heading!
            .toLowerCase()
            .replace(/[^\w\- ]/g, '')
            .replace(/ /g, '-'),
        );
      }
      for (const [, id] of text.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(id!);
      const missing = rules()
        .filter((r) => r.alert)
        .map((r) => r.annotations!.runbook!.split('#')[1]!)
        .filter((anchor) => !anchors.has(anchor));
      expect(missing, 'alerts whose runbook anchor has no heading in docs/runbook.md').toEqual([]);
    });

    it('hold dashboard expressions that promtool parses', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-promql-'));
      try {
        const exprs = dashboardPanels().flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
        // Grafana's $__rate_interval stands for a range; a recording rule per expression lets promtool parse them.
        const ruleFile = {
          groups: [
            {
              name: 'dashboard',
              rules: exprs.map((expr, i) => ({
                record: `dashboard:expr:${i}`,
                expr: expr.replaceAll('$__rate_interval', '5m'),
              })),
            },
          ],
        };
        const file = path.join(dir, 'dashboard.rules.json');
        writeFileSync(file, JSON.stringify(ruleFile));
        const { code, output } = await promtool(['check', 'rules', file]);
        expect(code, output).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describe('deploy/ against the live /metrics', () => {
  let t: TestService;
  let metricsText: string;
  beforeAll(async () => {
    t = await startTestService({ env: { REDIS_URL: 'redis://127.0.0.1:6379' } });
    // A success and a decline, so the payment families carry samples as well as HELP and TYPE.
    for (const method of ['pm_card_visa', 'pm_card_chargeDeclined']) {
      await t.merchant.post('/v1/payment_intents', {
        amount: 1500,
        currency: 'usd',
        payment_method: method,
        confirm: 'true',
      });
    }
    metricsText = (await t.api.get('/metrics')).text;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('passes promtool check metrics, but for prom-client default gauges named *_total', async () => {
    const { output } = await promtool(['check', 'metrics'], metricsText);
    // prom-client's collectDefaultMetrics() exports nodejs_active_{handles,requests,resources}_total as
    // gauges; the names are the library's, so they are reported here and not renamed.
    const known =
      /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
    const problems = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !known.test(line));
    expect(problems).toEqual([]);
  });

  it('exports every metric the rules read, except those named as coming from elsewhere', () => {
    const exported = exportedNames(metricsText);
    const recorded = new Set(rules().flatMap((r) => (r.record ? [r.record] : [])));
    const unknown = rules()
      .flatMap((r) => metricNames(r.expr))
      .filter((name) => !exported.has(name) && !recorded.has(name) && !EXTERNAL.has(name))
      .filter((name) => !NOT_YET_EXPORTED.has(name));
    expect([...new Set(unknown)]).toEqual([]);
    // The webhook accept histogram reaches past StripeWebhookDelay's 3 s threshold.
    expect(metricsText).toMatch(/^stripe_webhook_duration_seconds_bucket\{le="5",/m);
  });

  it('has runbook 003 panels whose expressions read exported or recorded metrics', () => {
    const panels = dashboardPanels();
    const titles = panels.map((p) => p.title);
    for (const title of [
      'Payment success rate',
      'Transaction volume by gateway',
      'Processing time p50 / p95 / p99',
      'Gateway errors',
      'Webhook processing time p50 / p95 / p99',
      'Database connection pool',
      'Redis memory',
      'Dispute rate',
      'Refund rate',
      'Provider circuit state',
    ]) {
      expect(titles).toContain(title);
    }
    const exported = exportedNames(metricsText);
    const recorded = new Set(rules().flatMap((r) => (r.record ? [r.record] : [])));
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const names = metricNames(target.expr ?? '');
        expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exported.has(name) || recorded.has(name), `${panel.title} reads ${name}`).toBe(true);
        }
      }
    }
  });
});
