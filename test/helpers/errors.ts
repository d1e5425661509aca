import { expect } from 'chai';
import { DisResponseError } from '../../src/dis/errors.js';

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
