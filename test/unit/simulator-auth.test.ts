import { expect } from 'chai';
import { T0, PROJECT, CREDS, BASE, SCENARIO_DATA, rid, simulatorPerTest } from '../helpers/simulator.js';

describe('simulator (fake DIS)', () => {
  const sim = simulatorPerTest();
  const { get, start } = sim;

  describe('authentication and routing', () => {
    it('answers a request without a signature with 401 APIGW.0301', async () => {
      const reply = await get(`${BASE}/streams`, { sign: false });
      expect(reply.status).to.equal(401);
      expect(reply.body).to.deep.equal({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: missing Authorization header',
        request_id: rid(1),
      });
      expect(reply.requestId).to.equal(rid(1));
    });

    it('answers a wrong secret key and an unknown access key with 401 APIGW.0301', async () => {
      const wrongSecret = await get(`${BASE}/streams`, {
        credentials: { accessKey: CREDS.accessKey, secretKey: 'wrong' },
      });
      expect(wrongSecret.status).to.equal(401);
      expect(wrongSecret.body).to.deep.equal({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: signature does not match',
        request_id: rid(1),
      });
      const unknownKey = await get(`${BASE}/streams`, {
        credentials: { accessKey: 'OTHER', secretKey: CREDS.secretKey },
      });
      expect(unknownKey.body).to.deep.equal({
        error_code: 'APIGW.0301',
        error_msg: 'Incorrect IAM authentication information: unknown access key',
        request_id: rid(2),
      });
      expect(sim.dis.control.requests().map((r) => r.status)).to.deep.equal([401, 401]);
    });

    it('answers a signature dated more than 15 minutes off with 401 APIGW.0303', async () => {
      const reply = await get(`${BASE}/streams`, { signedAtMs: T0 - 15 * 60_000 - 1_000 });
      expect(reply.status).to.equal(401);
      expect(reply.body).to.deep.equal({
        error_code: 'APIGW.0303',
        error_msg: 'X-Sdk-Date differs from server time by more than 900 s',
        request_id: rid(1),
      });
      expect((await get(`${BASE}/streams`, { signedAtMs: T0 + 15 * 60_000 })).status).to.equal(200);
    });

    it("answers a temporary AK/SK's request without its security token, or with another, with 401 APIGW.0301", async () => {
      const temporary = { accessKey: 'TEMPACCESSKEY', secretKey: 'temp-secret-key', securityToken: 'TOKEN-1' };
      const server = await start({ ...SCENARIO_DATA, credentials: [temporary] });
      const refused = {
        error_code: 'APIGW.0301',
        error_msg:
          'Incorrect IAM authentication information: the security token does not match the temporary access key',
      };
      const { securityToken: _token, ...withoutToken } = temporary;
      const missing = await get(`${BASE}/streams`, { server, credentials: withoutToken });
      expect([missing.status, missing.body]).to.deep.equal([401, { ...refused, request_id: rid(1) }]);
      const other = await get(`${BASE}/streams`, { server, credentials: { ...temporary, securityToken: 'TOKEN-2' } });
      expect([other.status, other.body]).to.deep.equal([401, { ...refused, request_id: rid(2) }]);
      expect((await get(`${BASE}/streams`, { server, credentials: temporary })).status).to.equal(200);
    });

    it('skips signature checks when credentials is an empty list', async () => {
      const open = await start(SCENARIO_DATA, { credentials: [] });
      expect((await get(`${BASE}/streams`, { server: open, sign: false })).status).to.equal(200);
    });

    it('answers a wrong project id in the path, or an X-Project-Id that differs from it, with 400 DIS.4117', async () => {
      const other = '99999999999999999999999999999999';
      const path = await get(`/v2/${other}/streams`, { headers: { 'X-Project-Id': other } });
      expect(path.status).to.equal(400);
      expect(path.body).to.deep.equal({ errorCode: 'DIS.4117', message: `Invalid Project Id. [${other}][${rid(1)}]` });
      const header = await get(`${BASE}/streams`, { headers: { 'X-Project-Id': other } });
      expect(header.body).to.deep.equal({
        errorCode: 'DIS.4117',
        message: `Invalid Project Id. [${PROJECT}][${rid(2)}]`,
      });
      expect((await get(`${BASE}/streams`, { headers: {} })).status).to.equal(200);
    });

    it('answers an unknown path with 404 APIGW.0101 and an X-Request-Id', async () => {
      const reply = await get(`/v2/${PROJECT}/checkpoints`);
      expect(reply.status).to.equal(404);
      expect(reply.body).to.deep.equal({
        error_code: 'APIGW.0101',
        error_msg: 'The API does not exist or has not been published in the environment',
        request_id: rid(1),
      });
      expect(reply.requestId).to.equal(rid(1));
      expect(sim.dis.control.requests()).to.deep.equal([]);
    });
  });
});
