import { IdentifierError } from '../src/identifier.errors';

/** The IdentifierError `run` throws; anything else thrown, or nothing, fails the test. For unit specs (no I/O). */
export function identifierErrorOf(run: () => unknown): IdentifierError {
  try {
    run();
  } catch (err) {
    if (err instanceof IdentifierError) return err;
    throw err;
  }
  throw new Error('expected an IdentifierError');
}
