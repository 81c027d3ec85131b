// The publishers' event generator, shared by the k6 scripts and the Node tools.
// Plain ES module with no imports: k6 (goja) and Node both load it as it is.
//
// A run of `total` events holds exactly `round(total * duplicateRatio)` duplicates
// (at most total - 1):
// position p maps through an affine permutation to an index; indexes below the
// unique count are fresh keys, the others repeat an earlier key. So any slice of
// positions can be sent by any publisher, in any order, and the totals stay exact.

/** The plan of a run: how many events, how many unique keys, and the permutation. */
export function planRun(options) {
  const total = options.total;
  const duplicateRatio = options.duplicateRatio ?? 0.3;
  if (!Number.isSafeInteger(total) || total < 1) throw new Error('total must be a positive whole number');
  if (!(duplicateRatio >= 0 && duplicateRatio < 1)) throw new Error('duplicateRatio must be in [0, 1)');
  // At least one unique key: a duplicate needs an original (and keyAt divides by the unique count).
  const duplicates = Math.min(Math.round(total * duplicateRatio), total - 1);
  const seed = options.seed ?? 1;
  return {
    total,
    unique: total - duplicates,
    duplicates,
    topics: options.topics ?? ['orders', 'payments', 'shipments', 'users'],
    runId: options.runId ?? `run${seed}`,
    // A multiplier coprime with total makes p -> (a*p + b) mod total a permutation.
    multiplier: coprimeNear(total, 7919 + (seed % 1000) * 2),
    offset: seed % total,
  };
}

function gcd(a, b) {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function coprimeNear(total, start) {
  let a = start % total || 1;
  while (gcd(a, total) !== 1) a = (a + 1) % total || 1;
  return a;
}

/** The key index sent at a position: below `plan.unique` a fresh key, else a repeat of one. */
export function keyAt(plan, position) {
  const index = Number((BigInt(plan.multiplier) * BigInt(position) + BigInt(plan.offset)) % BigInt(plan.total));
  return index < plan.unique ? index : Number((BigInt(index) * 2654435761n) % BigInt(plan.unique));
}

/** The event sent at a position. A repeat of a key is the same event again, as a retrying publisher sends it. */
export function eventAt(plan, position) {
  const key = keyAt(plan, position);
  return {
    topic: plan.topics[key % plan.topics.length],
    event_id: `${plan.runId}-${key}`,
    timestamp: new Date(Date.UTC(2026, 10, 25, 8, 0, 0) + key * 1000).toISOString(),
    source: 'loadtest',
    payload: { key, amount: (key * 37) % 1000, note: 'generated' },
  };
}

/** Events at positions [from, to). */
export function eventsBetween(plan, from, to) {
  const events = [];
  for (let p = from; p < Math.min(to, plan.total); p++) events.push(eventAt(plan, p));
  return events;
}

/** Per-topic unique and duplicate counts a plan produces, for checking /stats. */
export function expectedCounts(plan) {
  const seen = new Set();
  const topics = {};
  for (let p = 0; p < plan.total; p++) {
    const key = keyAt(plan, p);
    const topic = plan.topics[key % plan.topics.length];
    const t = (topics[topic] ??= { unique: 0, duplicates: 0 });
    if (seen.has(key)) t.duplicates++;
    else {
      seen.add(key);
      t.unique++;
    }
  }
  return { unique: plan.unique, duplicates: plan.duplicates, topics };
}
