import { describe, expect, it } from 'vitest';
import { endpointsOf, parsePublishArgs, UsageError } from './publish-options.ts';

describe('the publisher command line', () => {
  it('takes the documented options', () => {
    const options = parsePublishArgs(
      ['--events', '2000', '--duplicates', '0.3', '--batch', '100', '--concurrency', '16', '--url', 'http://localhost:8080', '--check'],
      0,
    );
    expect(options).toMatchObject({
      events: 2000, duplicates: 0.3, batch: 100, concurrency: 16, check: true, json: false,
      url: 'http://localhost:8080/publish', statsUrl: 'http://localhost:8080/stats', runId: 'publish-1-0',
    });
  });

  it('defaults to the seed scenario against npm start', () => {
    expect(parsePublishArgs([], 0)).toMatchObject({ events: 20_000, duplicates: 0.3, url: 'http://127.0.0.1:8080/publish' });
  });

  it('finds /stats beside the ingest path it is given', () => {
    expect(endpointsOf('http://gw:8080/publish').statsUrl).toBe('http://gw:8080/stats');
    expect(endpointsOf('http://gw:8080/function/ingest').statsUrl).toBe('http://gw:8080/function/stats');
    expect(endpointsOf('http://ingest:8080/', 'http://stats:8080/stats')).toEqual({ url: 'http://ingest:8080/publish', statsUrl: 'http://stats:8080/stats' });
    expect(() => endpointsOf('http://ingest:8080/custom')).toThrow(/--stats-url/);
  });

  it('names the option that is wrong', () => {
    expect(() => parsePublishArgs(['--batch', '5000'])).toThrow(/--batch must be a whole number from 1 to 1000/);
    expect(() => parsePublishArgs(['--duplicates', '1'])).toThrow(/--duplicates/);
    expect(() => parsePublishArgs(['--events', ''])).toThrow(/--events/);
    expect(() => parsePublishArgs(['--url', 'not a url'])).toThrow(UsageError);
    expect(() => parsePublishArgs(['--bogus'])).toThrow(UsageError);
  });
});
