import { sql, type Kysely } from 'kysely';

// Frozen: a migration never imports application code, so it reads the same forever.
//
// GET /stats used to sum every (topic, shard) counter row on each call, so its cost
// grew with the number of topics. Now:
// - `counter_totals` holds the totals per shard, kept by statement triggers on
//   `topic_counters` in the writer's own transaction. A worker writes one shard, so
//   workers still never wait on each other's row; the totals are a sum over the
//   shards, whatever the number of topics.
// - `topic_counters_busiest` orders counter rows by traffic, so the busiest topics
//   are found by reading the top of an index rather than aggregating every topic.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('counter_totals')
    .addColumn('shard', 'integer', (c) => c.primaryKey())
    .addColumn('unique_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('duplicate_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // One function for the three row events: the transition tables a branch reads exist only
  // for its own trigger, and PL/pgSQL plans a statement when it first runs it.
  await sql`
    CREATE FUNCTION counter_totals_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO counter_totals AS t (shard, unique_count, duplicate_count)
        SELECT shard, sum(unique_count), sum(duplicate_count) FROM new_rows GROUP BY shard
        ON CONFLICT (shard) DO UPDATE SET unique_count = t.unique_count + excluded.unique_count,
                                          duplicate_count = t.duplicate_count + excluded.duplicate_count;
      ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO counter_totals AS t (shard, unique_count, duplicate_count)
        SELECT shard, sum(u), sum(d) FROM (
          SELECT shard, unique_count AS u, duplicate_count AS d FROM new_rows
          UNION ALL SELECT shard, -unique_count, -duplicate_count FROM old_rows) AS delta
        GROUP BY shard
        ON CONFLICT (shard) DO UPDATE SET unique_count = t.unique_count + excluded.unique_count,
                                          duplicate_count = t.duplicate_count + excluded.duplicate_count;
      ELSIF TG_OP = 'DELETE' THEN
        UPDATE counter_totals AS t SET unique_count = t.unique_count - o.u, duplicate_count = t.duplicate_count - o.d
        FROM (SELECT shard, sum(unique_count) AS u, sum(duplicate_count) AS d FROM old_rows GROUP BY shard) AS o
        WHERE t.shard = o.shard;
      ELSE -- TRUNCATE
        DELETE FROM counter_totals;
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  // INSERT ... ON CONFLICT DO UPDATE fires the INSERT trigger for the rows it inserted
  // and the UPDATE trigger for the rows it updated: each row is counted once.
  await sql`CREATE TRIGGER counter_totals_insert AFTER INSERT ON topic_counters
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION counter_totals_follow()`.execute(db);
  await sql`CREATE TRIGGER counter_totals_update AFTER UPDATE ON topic_counters
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION counter_totals_follow()`.execute(db);
  await sql`CREATE TRIGGER counter_totals_delete AFTER DELETE ON topic_counters
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION counter_totals_follow()`.execute(db);
  await sql`CREATE TRIGGER counter_totals_truncate AFTER TRUNCATE ON topic_counters
    FOR EACH STATEMENT EXECUTE FUNCTION counter_totals_follow()`.execute(db);

  // Creating the triggers locked topic_counters against writers until this transaction
  // commits, so the rows summed here are exactly those the triggers have not seen.
  await sql`INSERT INTO counter_totals (shard, unique_count, duplicate_count)
    SELECT shard, sum(unique_count), sum(duplicate_count) FROM topic_counters GROUP BY shard`.execute(db);

  await sql`CREATE INDEX topic_counters_busiest ON topic_counters ((unique_count + duplicate_count) DESC, topic)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX topic_counters_busiest`.execute(db);
  for (const name of ['insert', 'update', 'delete', 'truncate']) {
    await sql`DROP TRIGGER ${sql.id(`counter_totals_${name}`)} ON topic_counters`.execute(db);
  }
  await sql`DROP FUNCTION counter_totals_follow()`.execute(db);
  await db.schema.dropTable('counter_totals').execute();
}
