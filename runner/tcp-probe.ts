import { connect } from 'node:net';

/**
 * Whether something accepts TCP connections at `host:port` within `timeoutMs`.
 * Enough to tell "a server is there" from "nothing is": the clients find out the rest.
 *
 * @example await answers('127.0.0.1:5432')
 */
export function answers(address: string, timeoutMs = 1_000): Promise<boolean> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `host:port` (or `[v6]:port`) as its parts. */
function splitAddress(address: string): [string, number] {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  if (!match) throw new Error(`not a host:port address: ${address}`);
  return [match[1] as string, Number(match[2])];
}
