import type { DisClient } from '../../src/dis/client.js';

/** The app calls of a fake DIS client of a test without consumer apps: no apps listed, no app ever polled. */
export const NO_APPS: Pick<DisClient, 'listApps' | 'getConsumerState'> = {
  listApps: async () => ({ apps: [] }),
  getConsumerState: () => Promise.reject(new Error('no consumer app in this test')),
};
