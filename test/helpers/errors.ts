import { expect } from 'chai';
import { ConfigError } from '../../src/config/config-error.js';
import { DisError, DisResponseError } from '../../src/dis/errors.js';

/** Runs `run` and returns the DisResponseError it throws; fails the test when it throws nothing or something else. */
export function responseErrorOf(run: () => unknown): DisResponseError {
  try {
    run();
  } catch (error) {
    if (error instanceof DisResponseError) return error;
    throw error;
  }
  return expect.fail('expected a DisResponseError');
}

/** Awaits a call that must fail and returns its DisError; fails the test when it succeeds or throws something else. */
export async function failureOf(pending: Promise<unknown>): Promise<DisError> {
  const error = await pending.then(
    () => expect.fail('should have failed'),
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(DisError);
  return error as DisError;
}

/** Runs `run` and returns the ConfigError it throws; fails the test when it throws nothing or something else. */
export function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  return expect.fail('expected a ConfigError');
}
