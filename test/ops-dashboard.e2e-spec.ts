import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ApiClient } from './support/api-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: identifiers left once strings, label matchers, range selectors and
 * grouping clauses are removed, other than function calls and keywords.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter(([, name, call]) => !call && !PROMQL_KEYWORDS.has(name.toLowerCase()))
    .map(([, name]) => name);
  return [...new Set(names)];
}

/** `expr:` values of a Prometheus rule file, block scalars (`expr: |`) included. */
function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const found: string[] = [];
  lines.forEach((line, i) => {
    const match = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!match) return;
    if (match[2].trim() !== '|') return void found.push(match[2]);
    // The block runs until the first non-blank line indented no deeper than `expr:` itself.
    const block: string[] = [];
    for (let j = i + 1; j < lines.length; j++) {
      if (lines[j].trim() && lines[j].search(/\S/) <= match[1].length) break;
      block.push(lines[j]);
    }
    found.push(block.join('\n'));
  });
  return found;
}

/** The series names a scrape offers: every declared family, and a histogram's _bucket, _sum and _count. */
function exportedNames(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

describe('ops: the dashboard and the alerts read only metrics /metrics exports', () => {
  let t: TestApp;
  let exported: Set<string>;

  beforeAll(async () => {
    t = await startTestApp('pglite');
    const api = new ApiClient(t.app);
    await api.get('/api/jobs');
    await api.get('/api/jobs');
    exported = exportedNames((await api.get('/metrics')).text);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('reads metric names out of PromQL, and flags one the app does not export', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{status_code=~"5.."}[5m]))) > 0.1',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNamesIn('sum (rate(a_total[1m])) or vector(0) and on (instance) b')).toEqual([
      'a_total',
      'b',
    ]);
    expect(exported.has('cache_requests_total')).toBe(true);
    expect(exported.has('cache_hits_total')).toBe(false);
  });

  it('every Grafana panel query names only exported metrics', () => {
    const dashboard = JSON.parse(readFileSync('ops/grafana/jobboard-cache.json', 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map(({ expr }) => ({ panel, expr })));
    expect(queries.length).toBeGreaterThanOrEqual(15);
    const unknown = queries.flatMap(({ panel, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${panel.title}: ${name}`),
    );
    expect(unknown).toEqual([]);
    expect(new Set(queries.flatMap(({ expr }) => metricNamesIn(expr))).size).toBeGreaterThanOrEqual(15);
  });

  it('every alert rule names only exported metrics', () => {
    const expressions = ruleExpressions(readFileSync('ops/prometheus/alerts.yml', 'utf8'));
    expect(expressions).toHaveLength(7);
    const unknown = expressions.flatMap((expr) => metricNamesIn(expr).filter((name) => !exported.has(name)));
    expect(unknown).toEqual([]);
  });
});
