// The day's traffic: a key universe of the seeded database's valid URLs, Zipf popularity within each kind of page,
// one of 200 users' tokens on 40% of reads, and 1% writes (posts, job updates, follows) that the load generator
// follows with reads of what they changed. Generated from a seed, so every mode gets the same requests in the same
// order at the same rate.
import { createHmac } from 'node:crypto';

/** One kind of page: its share of reads and its URLs, most popular first. */
export interface PageKind {
  name: string;
  share: number;
  paths: string[];
  /** The answer depends on who asks (the route keys its cache per viewer). */
  perViewer: boolean;
  /** The TTL the app's route (or service, for similar jobs) declares, in seconds. */
  ttlS: number;
  /** Only a signed-in viewer may ask (following=true). */
  needsViewer?: boolean;
}

export interface Universe {
  kinds: PageKind[];
  viewers: { id: number; token: string }[];
  /** Jobs the viewers own (so they may update them): id and the owner's index in `viewers`. */
  ownedJobs: { id: number; owner: number }[];
  /** Users the viewers follow and unfollow, most viewed first. */
  followees: number[];
}

export type Operation =
  | { kind: 'read'; page: number; path: string; viewer?: number }
  | { kind: 'post'; viewer: number }
  | { kind: 'job'; job: number }
  | { kind: 'follow'; viewer: number; followee: number };

export const VIEWERS = 200;
export const TOKEN_SHARE = 0.4;
export const WRITE_SHARE = Number(process.env.DAY_WRITE_SHARE ?? 0.01);
const ZIPF_EXPONENT = 1;

/** mulberry32, as the seed CLI uses: the same seed, the same sequence. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by binary search in the cumulative weights. */
export function zipfSampler(n: number, random: () => number, exponent = ZIPF_EXPONENT): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) cumulative[rank] = total += 1 / (rank + 1) ** exponent;
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (cumulative[mid] < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** An HS256 access token as the app issues them (`sub` = user id, with an expiry), signed with its JWT_SECRET. */
export function signToken(userId: number, secret: string, lifetimeS = 12 * 3600): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: userId, iat: now, exp: now + lifetimeS })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** What the universe is built from: the seeded database's sizes and the values its filters take. */
export interface SeededFacts {
  jobIds: number[];
  userIds: number[];
  locations: string[];
  categories: string[];
  types: string[];
  ownedJobs: { id: number; postedBy: number }[];
}

export function buildUniverse(facts: SeededFacts, secret: string, seed: number): Universe {
  const random = createRandom(seed);
  const pages = (count: number, step: number) => Array.from({ length: count }, (_, i) => i * step);
  const q = encodeURIComponent;
  const jobLists: string[] = [];
  const filters = [
    '',
    ...facts.locations.map((l) => `&location=${q(l)}`),
    ...facts.categories.map((c) => `&category=${q(c)}`),
    ...facts.types.map((t) => `&type=${q(t)}`),
    ...facts.locations.flatMap((l) => facts.categories.map((c) => `&location=${q(l)}&category=${q(c)}`)),
  ];
  // Every filter's first page before any second page: popularity falls with depth, then with the filter's rank.
  for (const skip of pages(5, 20))
    for (const filter of filters) jobLists.push(`/api/jobs?skip=${skip}&limit=20${filter}`);
  const jobIds = shuffled(facts.jobIds, random);
  const userIds = shuffled(facts.userIds, random);
  const viewers = facts.userIds.slice(0, VIEWERS).map((id) => ({ id, token: signToken(id, secret) }));
  const viewerIndex = new Map(viewers.map((viewer, index) => [viewer.id, index]));
  const kinds: PageKind[] = [
    {
      name: 'posts feed',
      share: 0.22,
      // One entry for everyone unless following=true (PostsController.list's scope).
      perViewer: false,
      ttlS: 30,
      paths: pages(10, 10).map((s) => `/api/posts?skip=${s}&limit=10`),
    },
    {
      name: 'posts feed, following',
      share: 0.06,
      perViewer: true,
      ttlS: 30,
      needsViewer: true,
      paths: pages(10, 10).map((s) => `/api/posts?skip=${s}&limit=10&following=true`),
    },
    { name: 'jobs lists', share: 0.22, perViewer: false, ttlS: 120, paths: jobLists },
    {
      name: 'job items',
      share: 0.2,
      perViewer: false,
      ttlS: 120,
      paths: jobIds.map((id) => `/api/jobs/${id}`),
    },
    {
      name: 'similar jobs',
      share: 0.08,
      perViewer: false,
      ttlS: 600,
      paths: jobIds.map((id) => `/api/jobs/${id}/similar?limit=5`),
    },
    {
      name: 'users lists',
      share: 0.1,
      perViewer: true,
      ttlS: 180,
      paths: pages(20, 20).map((s) => `/api/users/list?skip=${s}&limit=20`),
    },
    {
      name: 'user profiles',
      share: 0.12,
      perViewer: true,
      ttlS: 180,
      paths: userIds.map((id) => `/api/users/${id}`),
    },
  ];
  return {
    kinds,
    viewers,
    ownedJobs: facts.ownedJobs
      .filter((job) => viewerIndex.has(job.postedBy))
      .map((job) => ({ id: job.id, owner: viewerIndex.get(job.postedBy) ?? 0 })),
    followees: userIds.slice(0, 500),
  };
}

export const distinctKeys = (universe: Universe) =>
  universe.kinds.reduce((sum, kind) => sum + kind.paths.length, 0);

/**
 * `count` operations for step `step` of a run seeded with `seed`: the same arguments give the same operations.
 * Writes are 1%: 40% new posts, 30% job updates, 30% follow toggles.
 */
export function operations(universe: Universe, seed: number, step: number, count: number): Operation[] {
  const random = createRandom(seed * 1_000 + step);
  const pageSamplers = universe.kinds.map((kind) => zipfSampler(kind.paths.length, random));
  const viewerSampler = zipfSampler(universe.viewers.length, random);
  const followeeSampler = zipfSampler(universe.followees.length, random);
  const kindCumulative: number[] = [];
  universe.kinds.reduce((sum, kind) => (kindCumulative.push(sum + kind.share), sum + kind.share), 0);
  const out: Operation[] = [];
  for (let i = 0; i < count; i++) {
    const draw = random();
    if (draw < WRITE_SHARE) {
      const viewer = viewerSampler();
      const which = draw / WRITE_SHARE;
      if (which < 0.4) out.push({ kind: 'post', viewer });
      else if (which < 0.7 && universe.ownedJobs.length > 0)
        out.push({ kind: 'job', job: Math.floor(random() * universe.ownedJobs.length) });
      else {
        let followee = universe.followees[followeeSampler()];
        if (followee === universe.viewers[viewer].id)
          followee = universe.followees[0] === followee ? universe.followees[1] : universe.followees[0];
        out.push({ kind: 'follow', viewer, followee });
      }
      continue;
    }
    const kindDraw = random() * (kindCumulative[kindCumulative.length - 1] ?? 1);
    let page = kindCumulative.findIndex((edge) => kindDraw < edge);
    if (page < 0) page = kindCumulative.length - 1;
    const kind = universe.kinds[page];
    const path = kind.paths[pageSamplers[page]()];
    const signedIn = kind.needsViewer || random() < TOKEN_SHARE;
    out.push(signedIn ? { kind: 'read', page, path, viewer: viewerSampler() } : { kind: 'read', page, path });
  }
  return out;
}

/**
 * The hit ratio of a perfect cache on the same reads: as many entries as asked for, keyed as our routes key them
 * (per viewer where the answer depends on the viewer), each kept for its route's TTL from the miss that filled it,
 * and never invalidated. What no cache can beat on this traffic: its misses are first requests and expiries. Fed
 * the operations of a mode in order (the probe's, then each step's) at their rates.
 */
export class IdealCache {
  private readonly expiresAt = new Map<string, number>();
  private clockS = 0;

  constructor(private readonly universe: Universe) {}

  /** Replays `ops` at `rate` per second; returns the reads' hits and count, in all and per kind of page. */
  replay(ops: readonly Operation[], rate: number) {
    const byKind: Record<string, { hits: number; reads: number }> = {};
    let hits = 0;
    let reads = 0;
    for (const op of ops) {
      this.clockS += 1 / rate;
      if (op.kind !== 'read') continue;
      const kind = this.universe.kinds[op.page];
      const key = kind.perViewer && op.viewer !== undefined ? `${op.viewer}:${op.path}` : op.path;
      const hit = (this.expiresAt.get(key) ?? -1) > this.clockS;
      if (!hit) this.expiresAt.set(key, this.clockS + kind.ttlS);
      const counts = (byKind[kind.name] ??= { hits: 0, reads: 0 });
      counts.reads++;
      reads++;
      if (hit) {
        counts.hits++;
        hits++;
      }
    }
    return { hits, reads, byKind };
  }
}
