import type pg from 'pg';

// The copy-in messages pg's connection can send; its types list only the query ones.
type CopyConnection = pg.Connection & { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void };

/**
 * A submittable for `COPY ... FROM STDIN`: pg hands the protocol's copy-in
 * exchange to whichever submittable is active, and answers it with an error
 * otherwise. The whole text goes as one CopyData message, which is how a
 * worker would send a batch it already holds in memory.
 */
class CopyIn implements pg.Submittable {
  readonly done: Promise<number>;
  #resolve: (rows: number) => void = () => undefined;
  #reject: (error: Error) => void = () => undefined;
  #rows = 0;

  constructor(private readonly sql: string, private readonly data: string) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  submit(connection: pg.Connection): void {
    connection.query(this.sql);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    connection.sendCopyFromChunk(Buffer.from(this.data));
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text: string }): void {
    this.#rows = Number(message.text.split(' ')[1]);
  }

  handleReadyForQuery(): void {
    this.#resolve(this.#rows);
  }

  handleError(error: Error): void {
    this.#reject(error);
  }
}

/**
 * Runs `COPY <table> FROM STDIN` with `data` in COPY's text format; resolves with the rows copied.
 *
 * @example await copyFromStdin(client, 'COPY staging (doc) FROM STDIN', lines.join('\n') + '\n')
 */
export function copyFromStdin(client: pg.ClientBase, sql: string, data: string): Promise<number> {
  return client.query(new CopyIn(sql, data)).done;
}

/** A value as one field of COPY's text format: backslash, tab and line breaks escaped. */
export function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}
