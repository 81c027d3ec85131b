import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be run: its message is the one line that says why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * node:util's parseArgs, strict, with its complaints (an unknown option, a missing value) as UsageError.
 *
 * @example const { values } = parseOptions({ args, options: { seconds: { type: 'string' } } })
 */
export function parseOptions<const T extends ParseArgsConfig>(config: T) {
  try {
    return parseArgs({ strict: true, ...config });
  } catch (error) {
    // Node's own first sentence, without the hint that follows it.
    throw new UsageError(String((error as Error).message).split(/\.\s|\n/)[0]);
  }
}

/**
 * How every `npm run` tool reads its command line: `--help` (or `-h`) prints the usage and exits 0;
 * a UsageError from `parse` prints its line and the usage and exits 2, with no stack trace.
 *
 * @example const options = readCommandLine(USAGE, parseBenchArgs)
 */
export function readCommandLine<T>(usage: string, parse: (argv: string[]) => T, argv = process.argv.slice(2)): T {
  const beforeEnd = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (beforeEnd.includes('--help') || beforeEnd.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${usage}`);
    process.exit(2);
  }
}
