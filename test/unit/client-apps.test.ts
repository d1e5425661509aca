import { expect } from 'chai';
import { DisHttpError } from '../../src/dis/errors.js';
import { PID, withCaptureServer, client } from '../helpers/dis-client.js';
import { failureOf } from '../helpers/errors.js';

// The consumer app calls of the DIS client over HTTP (docs/dis-api.md ("Consumer apps")): the app listing and the
// consumption state, each over every page, signed, counted under its operation; a missing app is not_found.

describe('DIS client: consumer apps', () => {
  it('lists the apps over every page, start_app_name = the last name of the previous page', async () => {
    const pages: Record<string, object> = {
      '': {
        total_number: 3,
        apps: [
          { app_name: 'audit', app_id: 'id-audit', commit_checkpoint_stream_names: ['orders'] },
          { app_name: 'bill ing', app_id: 'id-billing' },
        ],
        has_more_app: true,
      },
      'bill ing': { total_number: 3, apps: [{ app_name: 'zeta', app_id: 7 }], has_more_app: false },
    };
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        const url = new URL(req.originalUrl, 'http://x');
        res.json(pages[url.searchParams.get('start_app_name') ?? ''] ?? {});
      });
      const { c, events } = client(server);
      expect(await c.listApps()).to.deep.equal({
        apps: [
          { appName: 'audit', appId: 'id-audit', streams: ['orders'] },
          { appName: 'bill ing', appId: 'id-billing' },
          { appName: 'zeta', appId: '' },
        ],
        fieldIssues: [{ field: 'apps[0].app_id', problem: 'must be a string (got 7)' }],
      });
      expect(server.requests.map((s) => [s.path, s.verified])).to.deep.equal([
        [`/v2/${PID}/apps?limit=100`, 'ok'],
        [`/v2/${PID}/apps?limit=100&start_app_name=bill%20ing`, 'ok'],
      ]);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['list_apps', '200'],
        ['list_apps', '200'],
      ]);
    });
  });

  it('reads the consumption state over every page of 1000, start_partition_id = the last id as DIS sent it', async () => {
    const state = (id: unknown, sequence: unknown) => ({
      partition_id: id,
      sequence_number: sequence,
      latest_offset: '2000',
      earliest_offset: 100,
      checkpoint_type: 'LAST_READ',
    });
    const pages: Record<string, object> = {
      '': {
        app_name: 'billing',
        stream_name: 'orders',
        partition_consuming_states: [state(0, '1500'), state('1', -1)],
        has_more: true,
      },
      '1': { partition_consuming_states: [state('shardId-0000000002', 50)], has_more: false },
    };
    await withCaptureServer(async (server) => {
      server.answer((res, req) => {
        const url = new URL(req.originalUrl, 'http://x');
        res.json(pages[url.searchParams.get('start_partition_id') ?? ''] ?? {});
      });
      const { c, events } = client(server);
      const consumerState = await c.getConsumerState('billing', 'orders');
      expect(consumerState).to.deep.equal({
        partitions: [
          {
            partitionId: 'shardId-0000000000',
            hasCheckpoint: true,
            checkpoint: 1500,
            latestOffset: 2000,
            earliestOffset: 100,
          },
          { partitionId: 'shardId-0000000001', hasCheckpoint: false, latestOffset: 2000, earliestOffset: 100 },
          {
            partitionId: 'shardId-0000000002',
            hasCheckpoint: true,
            checkpoint: 50,
            latestOffset: 2000,
            earliestOffset: 100,
          },
        ],
      });
      expect(Object.isFrozen(consumerState) && Object.isFrozen(consumerState.partitions)).to.equal(true);
      expect(server.requests.map((s) => [s.path, s.verified])).to.deep.equal([
        [`/v2/${PID}/apps/billing/streams/orders?checkpoint_type=LAST_READ&limit=1000`, 'ok'],
        [`/v2/${PID}/apps/billing/streams/orders?checkpoint_type=LAST_READ&limit=1000&start_partition_id=1`, 'ok'],
      ]);
      expect(events.map((e) => [e.operation, e.code])).to.deep.equal([
        ['show_consumer_state', '200'],
        ['show_consumer_state', '200'],
      ]);
    });
  });

  it('fails an app DIS does not know (400 DIS.4332) as not_found, naming the request', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.status(400).json({ errorCode: 'DIS.4332', message: 'app not found.' }));
      const { c } = client(server);
      const error = await failureOf(c.getConsumerState('gone', 'orders'));
      expect(error).to.be.instanceOf(DisHttpError);
      expect(error).to.include({ reason: 'not_found', code: 'ERR_DIS_HTTP' });
      expect(error.message).to.equal(
        `GET /v2/${PID}/apps/gone/streams/orders?checkpoint_type=LAST_READ&limit=1000: HTTP 400 DIS.4332 (app not found.)`,
      );
    });
  });

  it('ends a walk whose pages repeat a partition (the server ignored the cursor) as a bad answer', async () => {
    await withCaptureServer(async (server) => {
      server.answer((res) => res.json({ partition_consuming_states: [{ partition_id: '0' }], has_more: true }));
      const { c } = client(server);
      const error = await failureOf(c.getConsumerState('billing', 'orders'));
      expect(error).to.include({ reason: 'bad_response' });
      expect(error.message).to.equal(
        `GET /v2/${PID}/apps/billing/streams/orders?checkpoint_type=LAST_READ&limit=1000&start_partition_id=0: ` +
          'has_more: was true on page 1 but page 2 repeats "shardId-0000000000" from page 1',
      );
    });
  });
});
