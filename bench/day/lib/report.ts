// Writing a run down: the JSON of everything measured, a Markdown report, an SVG chart of p99 against offered rate
// per mode, and one CSV line per run appended to the history. `latest-*` files are tracked; dated copies are not.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Series {
  name: string;
  points: { x: number; y: number; held: boolean }[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** p99 (ms, log scale) against offered rate (req/s, log scale), one line per mode, the bound as a dashed line. */
export function p99Chart(series: Series[], boundMs: number, title: string): string {
  const width = 760;
  const height = 420;
  const left = 70;
  const right = 170;
  const top = 40;
  const bottom = 50;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => Math.max(p.y, 0.1)));
  const [xMin, xMax] = [Math.min(...xs) / 1.2, Math.max(...xs) * 1.2];
  const [yMin, yMax] = [Math.min(0.5, ...ys), Math.max(boundMs * 4, ...ys) * 1.2];
  const sx = (x: number) =>
    left + ((Math.log(x) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * (width - left - right);
  const sy = (y: number) =>
    height -
    bottom -
    ((Math.log(Math.max(y, 0.1)) - Math.log(yMin)) / (Math.log(yMax) - Math.log(yMin))) *
      (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (const tick of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000].filter(
    (t) => t >= xMin && t <= xMax,
  ))
    parts.push(
      `<line x1="${sx(tick)}" y1="${top}" x2="${sx(tick)}" y2="${height - bottom}" stroke="#eee"/>`,
      `<text x="${sx(tick)}" y="${height - bottom + 16}" text-anchor="middle">${tick}</text>`,
    );
  for (const tick of [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000].filter(
    (t) => t >= yMin && t <= yMax,
  ))
    parts.push(
      `<line x1="${left}" y1="${sy(tick)}" x2="${width - right}" y2="${sy(tick)}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${sy(tick) + 4}" text-anchor="end">${tick}</text>`,
    );
  parts.push(
    `<line x1="${left}" y1="${sy(boundMs)}" x2="${width - right}" y2="${sy(boundMs)}" stroke="#999" stroke-dasharray="6 4"/>`,
    `<text x="${width - right + 4}" y="${sy(boundMs) + 4}" fill="#666">p99 bound ${boundMs} ms</text>`,
    `<text x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">offered rate, req/s (log)</text>`,
    `<text x="16" y="${(top + height - bottom) / 2}" transform="rotate(-90 16 ${(top + height - bottom) / 2})" text-anchor="middle">p99 latency, ms (log)</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points)
      parts.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="4" fill="${p.held ? color : 'white'}" stroke="${color}" stroke-width="2"/>`,
      );
    parts.push(
      `<rect x="${width - right + 10}" y="${top + 20 + i * 20}" width="12" height="12" fill="${color}"/>`,
      `<text x="${width - right + 28}" y="${top + 31 + i * 20}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push(
    `<text x="${width - right + 10}" y="${top + 40 + series.length * 20}" fill="#666">filled: held, open: failed</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** A Markdown table: `rows` of cells under `header`; numbers right-aligned. */
export function table(header: string[], rows: (string | number | null)[][]): string {
  const align = header.map((_, i) =>
    rows.every((row) => typeof row[i] === 'number' || row[i] === null) ? '---:' : '---',
  );
  return [
    `| ${header.join(' | ')} |`,
    `|${align.join('|')}|`,
    ...rows.map((row) => `| ${row.map((cell) => (cell === null ? '-' : String(cell))).join(' | ')} |`),
  ].join('\n');
}

/**
 * Writes `latest-<name>.{json,md,svg}` and dated copies into `dir`, and appends `csvLine` to `<name>-history.csv`
 * (with `csvHeader` first when the file is new). Returns the paths written.
 */
export function writeResults(
  dir: string,
  name: string,
  {
    json,
    markdown,
    svg,
    csvHeader,
    csvLine,
  }: { json: unknown; markdown: string; svg: string; csvHeader: string; csvLine: string },
): Record<'json' | 'markdown' | 'svg' | 'csv', string> {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const paths = {
    json: join(dir, `latest-${name}.json`),
    markdown: join(dir, `latest-${name}.md`),
    svg: join(dir, `latest-${name}.svg`),
    csv: join(dir, `${name}-history.csv`),
  };
  for (const [file, content] of [
    [paths.json, JSON.stringify(json, null, 2) + '\n'],
    [paths.markdown, markdown],
    [paths.svg, svg],
  ] as const) {
    writeFileSync(file, content);
    writeFileSync(file.replace(`latest-${name}`, `${name}-${stamp}`), content);
  }
  if (!existsSync(paths.csv)) writeFileSync(paths.csv, csvHeader + '\n');
  appendFileSync(paths.csv, csvLine + '\n');
  return paths;
}
