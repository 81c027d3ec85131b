import pg from 'pg';
import type { CeilingBatch, InsertVariant } from '../ceilings/insert-variants.ts';

export type InsertPlan = { variant: string; plan: string };

// A 500-row VALUES statement is 40 kB of text: the plan is what matters.
const shortenQueryText = (plan: string) =>
  plan.replace(/^(Query Text: )([\s\S]*?)(\n(?=\S+ {2}\(cost))/m, (_all, label: string, text: string, end: string) =>
    `${label}${text.replace(/\s+/g, ' ').slice(0, 240)}${text.length > 240 ? ' …' : ''}${end}`);

/**
 * EXPLAIN ANALYZE of each variant's insert, through auto_explain so that the
 * statement is exactly the one timed. Half of the keys are stored first, so
 * the explained batch meets conflicts as a table in service does; each variant
 * explains a batch of its own from the second half (or shares one when there
 * are fewer batches than variants).
 */
export async function explainInserts(url: string, variants: readonly InsertVariant[], batches: readonly CeilingBatch[]): Promise<InsertPlan[]> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query('TRUNCATE events, processed_messages, topic_counters RESTART IDENTITY');
    const half = Math.floor(batches.length / 2);
    const [filler] = variants;
    if (!filler || half === 0) return [];
    const fill = await filler.open(url, 0);
    for (const batch of batches.slice(0, half)) await fill.insert(batch);
    await fill.close();
    await admin.query('ANALYZE events');

    const plans: InsertPlan[] = [];
    for (const [i, variant] of variants.entries()) {
      const notices: string[] = [];
      const session = await variant.open(url, 0, (plan) => notices.push(plan));
      await session.insert(batches[half + (i % (batches.length - half))]!);
      await session.close();
      const insertPlan = notices.find((plan) => plan.includes('Insert on events'));
      if (insertPlan) plans.push({ variant: variant.name, plan: shortenQueryText(insertPlan.trim()) });
    }
    return plans;
  } finally {
    await admin.end();
  }
}
