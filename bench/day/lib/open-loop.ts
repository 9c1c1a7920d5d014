// The day's load generator: an open model at a fixed arrival rate. Request i is due at start + i/rate whether or
// not earlier ones have answered, and its latency is counted from that intended start, so a server that stalls
// shows its queue in the percentiles (no coordinated omission). It runs in a process of its own (forked by
// `runOpenLoop`), on node:http keep-alive agents; after every write it reads what the write changed, on another
// instance when there are several, and counts the answers that do not show it (stale).
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { callInChild, serveInChild } from './child.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';
import { operations, type Operation, type Universe } from './workload.js';

export interface LoadPlan {
  universe: Universe;
  targets: string[];
  rate: number;
  durationS: number;
  seed: number;
  step: number;
  /** In flight beyond this are not sent (counted as overload errors); default 4,096. */
  maxInFlight?: number;
  /** Only the reads of the mix (no writes, so nothing to check): for comparing generators on the same requests. */
  readsOnly?: boolean;
}

export interface LoadResult {
  offeredRate: number;
  achievedRate: number;
  sent: number;
  latency: LatencySummary;
  /** Answers by status class and failures by cause ('status 500', 'timeout', 'ECONNRESET', 'overload'...). */
  errors: Record<string, number>;
  errorCount: number;
  xCache: Record<string, number>;
  /** X-Cache of the reads by kind of page ('-' where the route sends none: similar jobs are cached in a service). */
  xCacheByKind: Record<string, Record<string, number>>;
  reads: number;
  signedInReads: number;
  writes: number;
  /** Writes not sent because one on the same job or follow pair was still in flight (their checks would race). */
  writesSkippedBusy: number;
  checks: number;
  /** Checks whose instance answered the same read from its cache (HIT) just before the write. */
  engagedChecks: number;
  /** The reads that primed the checks (one per write). */
  primes: number;
  stale: number;
  staleEngaged: number;
  staleExamples: string[];
  distinctPaths: number;
  /** Body bytes received per answer, as sent (compressed where the server compressed). */
  bodyBytesPerAnswer: number;
}

const REQUEST_TIMEOUT_MS = 10_000;
/** What a new post must appear in: the first page of the public feed. */
const FEED_CHECK = '/api/posts?skip=0&limit=10';
/** More requests in flight than this and the server is not keeping up: further ones count as errors, unsent. */
const MAX_IN_FLIGHT = 4_096;

/** Runs one step in a generator process of its own and resolves with what it measured. */
export const runOpenLoop = (plan: LoadPlan) => callInChild<LoadResult>(import.meta.url, '--generate', plan);

interface Answer {
  status: number;
  xCache?: string;
  body: string;
}

class Generator {
  private readonly agents: http.Agent[];
  private readonly latencies: number[] = [];
  private readonly errors: Record<string, number> = {};
  private readonly xCache: Record<string, number> = {};
  private readonly xCacheByKind: Record<string, Record<string, number>> = {};
  private readonly busy = new Set<string>();
  private readonly following = new Map<string, boolean>();
  private readonly paths = new Set<string>();
  private readonly staleExamples: string[] = [];
  private inFlight = 0;
  private ok = 0;
  private lastAnswerAt = 0;
  private counts = {
    reads: 0,
    signedInReads: 0,
    writes: 0,
    writesSkippedBusy: 0,
    checks: 0,
    engagedChecks: 0,
    primes: 0,
    stale: 0,
    staleEngaged: 0,
  };
  private postSerial = 0;
  private bodyBytes = 0;
  private answers = 0;

  constructor(private readonly plan: LoadPlan) {
    this.agents = plan.targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 512 }));
  }

  async run(): Promise<LoadResult> {
    const { rate, durationS, universe, seed, step } = this.plan;
    const all = operations(universe, seed, step, Math.round(rate * durationS));
    const ops = this.plan.readsOnly ? all.filter((op) => op.kind === 'read') : all;
    const interval = (durationS * 1_000) / ops.length;
    const start = performance.now() + 20;
    let next = 0;
    const pending: Promise<void>[] = [];
    await new Promise<void>((done) => {
      const tick = () => {
        const now = performance.now();
        for (; next < ops.length && start + next * interval <= now; next++)
          pending.push(this.dispatch(ops[next], start + next * interval, next));
        if (next < ops.length) setTimeout(tick, 1);
        else done();
      };
      setTimeout(tick, 20);
    });
    await Promise.all(pending);
    for (const agent of this.agents) agent.destroy();
    const elapsedS = (Math.max(this.lastAnswerAt, start + durationS * 1_000) - start) / 1_000;
    return {
      offeredRate: ops.length / durationS,
      achievedRate: this.ok / elapsedS,
      sent: ops.length,
      latency: summarizeLatencies(this.latencies),
      errors: this.errors,
      errorCount: Object.values(this.errors).reduce((sum, n) => sum + n, 0),
      xCache: this.xCache,
      xCacheByKind: this.xCacheByKind,
      ...this.counts,
      staleExamples: this.staleExamples,
      distinctPaths: this.paths.size,
      bodyBytesPerAnswer: this.answers === 0 ? 0 : Math.round(this.bodyBytes / this.answers),
    };
  }

  private fail(cause: string) {
    this.errors[cause] = (this.errors[cause] ?? 0) + 1;
  }

  /** Sends op `index`, due at `intendedAt`: reads round-robin over the instances, writes too, checks on the next. */
  private async dispatch(op: Operation, intendedAt: number, index: number): Promise<void> {
    if (this.inFlight >= (this.plan.maxInFlight ?? MAX_IN_FLIGHT))
      return this.fail('overload (too many in flight)');
    const target = index % this.plan.targets.length;
    const { universe } = this.plan;
    if (op.kind === 'read') {
      this.counts.reads++;
      if (op.viewer !== undefined) this.counts.signedInReads++;
      this.paths.add(
        op.viewer !== undefined && universe.kinds[op.page].perViewer ? `${op.viewer}:${op.path}` : op.path,
      );
      const answer = await this.timed(target, 'GET', op.path, op.viewer, undefined, intendedAt);
      if (answer && answer.status !== 200)
        this.fail(`status ${answer.status} ${universe.kinds[op.page].name}`);
      if (answer) {
        const byKind = (this.xCacheByKind[universe.kinds[op.page].name] ??= {});
        const state = answer.xCache ?? '-';
        byKind[state] = (byKind[state] ?? 0) + 1;
      }
      return;
    }
    const lock =
      op.kind === 'job' ? `job:${op.job}` : op.kind === 'follow' ? `follow:${op.viewer}:${op.followee}` : '';
    if (lock && this.busy.has(lock)) {
      this.counts.writesSkippedBusy++;
      return;
    }
    if (lock) this.busy.add(lock);
    this.counts.writes++;
    try {
      await this.write(op as Exclude<Operation, { kind: 'read' }>, target, index);
    } finally {
      if (lock) this.busy.delete(lock);
    }
  }

  /**
   * A write, then a read of what it changed on the next instance; an answer that does not show it is stale. The
   * same read just before the write primes that instance: a check counts as engaged only when that read was a HIT
   * (an entry was cached there, so the check tests its invalidation). Writes count their latency from their send,
   * after that read.
   */
  private async write(op: Exclude<Operation, { kind: 'read' }>, target: number, index: number) {
    const { universe, step } = this.plan;
    const checkOn = (target + 1) % this.plan.targets.length;
    const prime = async (path: string, viewer?: number) => {
      this.counts.primes++;
      const primed = await this.request(checkOn, 'GET', path, viewer);
      return primed?.xCache === 'HIT';
    };
    if (op.kind === 'post') {
      const engaged = await prime(FEED_CHECK);
      const content = `Day bench post ${step}-${index}-${this.postSerial++}`;
      const created = await this.timed(
        target,
        'POST',
        '/api/posts',
        op.viewer,
        { content },
        performance.now(),
      );
      if (created?.status !== 201) return created && this.fail(`status ${created.status} post`);
      const id = (JSON.parse(created.body) as { id: number }).id;
      const feed = await this.check(checkOn, FEED_CHECK);
      const items = (JSON.parse(feed?.body ?? '{}') as { items?: { id: number }[] }).items ?? [];
      this.judge(
        items.some((post) => post.id === id),
        engaged,
        `post ${id} missing from the feed`,
      );
    } else if (op.kind === 'job') {
      const job = universe.ownedJobs[op.job];
      const path = `/api/jobs/${job.id}`;
      const engaged = await prime(path);
      const title = `Day bench role ${step}-${index}`;
      const patched = await this.timed(target, 'PATCH', path, job.owner, { title }, performance.now());
      if (patched?.status !== 200) return patched && this.fail(`status ${patched.status} job update`);
      const item = await this.check(checkOn, path);
      const seen = (JSON.parse(item?.body ?? '{}') as { title?: string }).title;
      this.judge(seen === title, engaged, `job ${job.id} titled '${seen}', not '${title}'`);
    } else {
      const pair = `${op.viewer}:${op.followee}`;
      const follow = !this.following.get(pair);
      const profilePath = `/api/users/${op.followee}`;
      const engaged = await prime(profilePath, op.viewer);
      const method = follow ? 'POST' : 'DELETE';
      const done = await this.timed(
        target,
        method,
        `${profilePath}/follow`,
        op.viewer,
        undefined,
        performance.now(),
      );
      if (done?.status !== 204) return done && this.fail(`status ${done.status} follow`);
      this.following.set(pair, follow);
      const profile = await this.check(checkOn, profilePath, op.viewer);
      const seen = (JSON.parse(profile?.body ?? '{}') as { isFollowing?: boolean }).isFollowing;
      this.judge(
        seen === follow,
        engaged,
        `user ${op.followee} isFollowing=${seen} for viewer ${op.viewer}, not ${follow}`,
      );
    }
  }

  private async check(target: number, path: string, viewer?: number): Promise<Answer | undefined> {
    this.counts.checks++;
    const answer = await this.request(target, 'GET', path, viewer);
    if (answer && answer.status !== 200) this.fail(`status ${answer.status} check`);
    return answer;
  }

  private judge(fresh: boolean, engaged: boolean, what: string) {
    if (engaged) this.counts.engagedChecks++;
    if (fresh) return;
    this.counts.stale++;
    if (engaged) this.counts.staleEngaged++;
    if (this.staleExamples.length < 5) this.staleExamples.push(what);
  }

  /** A scheduled request: its latency from the intended start counts in the percentiles. */
  private async timed(
    target: number,
    method: string,
    path: string,
    viewer: number | undefined,
    body: object | undefined,
    intendedAt: number,
  ): Promise<Answer | undefined> {
    const answer = await this.request(target, method, path, viewer, body);
    if (!answer) return undefined;
    this.latencies.push(performance.now() - intendedAt);
    if (answer.status < 400) this.ok++;
    if (answer.xCache) this.xCache[answer.xCache] = (this.xCache[answer.xCache] ?? 0) + 1;
    return answer;
  }

  /** Counts the bytes as received; the text is decoded only when a write or check reads it. */
  private received(raw: Buffer, gzip: boolean): { body: string } {
    this.bodyBytes += raw.length;
    this.answers++;
    let text: string | undefined;
    return {
      get body() {
        return (text ??= gzip ? gunzipSync(raw).toString() : raw.toString());
      },
    };
  }

  private request(
    target: number,
    method: string,
    path: string,
    viewer?: number,
    body?: object,
  ): Promise<Answer | undefined> {
    const url = new URL(this.plan.targets[target]);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    // As a browser asks: JSON, compressed if the server will.
    const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'gzip' };
    if (viewer !== undefined) headers.authorization = `Bearer ${this.plan.universe.viewers[viewer].token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    this.inFlight++;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (answer: Answer | undefined, cause?: string) => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        this.lastAnswerAt = performance.now();
        if (cause) this.fail(cause);
        resolve(answer);
      };
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path,
          method,
          headers,
          agent: this.agents[target],
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            finish({
              status: res.statusCode ?? 0,
              xCache: res.headers['x-cache'] as string | undefined,
              ...this.received(Buffer.concat(chunks), res.headers['content-encoding'] === 'gzip'),
            }),
          );
          res.on('error', (error: NodeJS.ErrnoException) => finish(undefined, error.code ?? error.message));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (error: NodeJS.ErrnoException) => finish(undefined, error.code ?? error.message));
      req.end(payload);
    });
  }
}

serveInChild('--generate', (plan: LoadPlan) => new Generator(plan).run());
