/**
 * Why a claim could not be processed, by the dependency that failed, so that the
 * HTTP trigger names it and the poller knows what to do with the claim.
 */

/** PostgreSQL stayed unreachable until the caller gave up; the claim is still leased, to be handed back. */
export class StoreAbortedError extends Error {
  readonly dependency = 'postgres';
  constructor(cause: unknown) {
    super('gave up storing the claim: PostgreSQL did not answer', { cause });
    this.name = 'StoreAbortedError';
  }
}

/**
 * Storing failed STORE_MAX_RETRIES times for another reason than an outage (a
 * statement timeout, a bug); the claim was handed back counting an attempt.
 */
export class StoreGaveUpError extends Error {
  constructor(cause: unknown, readonly retries: number) {
    super(`gave up storing the claim after ${retries} retries; handed it back counting an attempt`, { cause });
    this.name = 'StoreGaveUpError';
  }
}
