/** A service the runner needed could not be found or started: its message is the one line the operator reads. */
export class ZeroSetupError extends Error {
  override readonly name = 'ZeroSetupError';
}
