import type { SendProgress } from './batch-sender.ts';

const WIDTH = 30;
const format = (n: number) => n.toLocaleString('en-US');

/**
 * A progress bar on a terminal (redrawn in place, at most ten times a second), or
 * a line every tenth of the way when the output is a file or a pipe.
 *
 * @example const bar = progressBar(20_000, process.stderr); bar.update(progress); bar.done(progress)
 */
export function progressBar(total: number, stream: NodeJS.WritableStream & { isTTY?: boolean }, now = () => Date.now()) {
  const started = now();
  let lastDraw = 0;
  let lastTenth = -1;
  const line = (p: SendProgress) => {
    const share = p.sentEvents / total;
    const filled = Math.round(share * WIDTH);
    const seconds = Math.max((now() - started) / 1000, 0.001);
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${format(p.sentEvents)}/${format(total)} events ${Math.floor(share * 100)
      .toString()
      .padStart(3)}%  ${format(Math.round(p.sentEvents / seconds))} ev/s  429s ${format(p.backpressure)}  retries ${format(p.retries)}`;
  };
  return {
    update(p: SendProgress) {
      if (stream.isTTY) {
        if (now() - lastDraw < 100) return;
        lastDraw = now();
        stream.write(`\r${line(p)}`);
        return;
      }
      const tenth = Math.floor((p.sentEvents / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${line(p)}\n`);
      }
    },
    done(p: SendProgress) {
      stream.write(stream.isTTY ? `\r${line(p)}\n` : lastTenth < 10 ? `${line(p)}\n` : '');
    },
  };
}
