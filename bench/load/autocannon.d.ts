// autocannon 9 ships no types: the part of its API the bench uses (see its README, "API").
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    type Request = { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer };

    /** One connection's client: `setRequests` replaces the requests it loops over. */
    interface Client extends EventEmitter {
      setRequests(requests: Request[]): void;
    }

    type Options = {
      url: string;
      connections?: number;
      amount?: number;
      timeout?: number;
      sampleInt?: number;
      setupClient?: (client: Client) => void;
    };

    type Result = { statusCodeStats: Record<string, { count: number }> };

    interface Instance extends EventEmitter, PromiseLike<Result> {
      on(event: 'response', listener: (client: Client, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
