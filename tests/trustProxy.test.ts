import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/parseConfig.js';
import { requestFrom } from './support/requestFrom.js';
import { alert, startTestService, type TestService } from './support/startTestService.js';

/**
 * TRUST_PROXY decides whose X-Forwarded-For is believed, and so which address IP_ALLOWLIST and the rate limit
 * judge. The tests connect over real HTTP from chosen loopback addresses and send the header a proxy (or a
 * forger) would send; tests/httpsProxy.test.ts does the same through a real Caddy.
 */
const TRADINGVIEW = '52.89.214.238';

async function postFrom(svc: TestService, localAddress: string, forwardedFor?: string) {
  return requestFrom({
    url: `${svc.url}/api/webhooks/tradingview`,
    localAddress,
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    body: JSON.stringify(alert({ price: Math.random() })),
  });
}

function assertRefused(res: { status: number; json: any }, clientIp: string) {
  assert.equal(res.status, 403, JSON.stringify(res.json));
  assert.equal(res.json.error.code, 'WH_ERR_IP_FORBIDDEN');
  assert.match(res.json.error.message, new RegExp(`from ${clientIp.replaceAll('.', '\\.')} `));
}

describe('TRUST_PROXY: the client address is the right-most untrusted hop', function () {
  this.timeout(60_000);

  describe('a hop count', () => {
    let one: TestService;
    let two: TestService;
    before(async () => {
      one = await startTestService({ IP_ALLOWLIST: 'tradingview', TRUST_PROXY: '1' });
      two = await startTestService({ IP_ALLOWLIST: 'tradingview', TRUST_PROXY: '2' });
    });
    after(async () => {
      await one.close();
      await two.close();
    });

    it('TRUST_PROXY=1 takes the address the one proxy appended, and ignores what the client wrote before it', async () => {
      assert.equal((await postFrom(one, '127.0.0.1', TRADINGVIEW)).status, 200);
      // A forger puts TradingView's address first; the proxy appends the forger's real address.
      assertRefused(await postFrom(one, '127.0.0.1', `${TRADINGVIEW}, 198.51.100.7`), '198.51.100.7');
      // Without the header (not through the proxy) the socket's own address counts.
      assertRefused(await postFrom(one, '127.0.0.3'), '127.0.0.3');
    });

    it('TRUST_PROXY=2 skips exactly two proxies', async () => {
      assert.equal((await postFrom(two, '127.0.0.1', `198.51.100.7, ${TRADINGVIEW}, 10.0.0.2`)).status, 200);
      assertRefused(await postFrom(two, '127.0.0.1', `${TRADINGVIEW}, 198.51.100.7, 10.0.0.2`), '198.51.100.7');
    });
  });

  describe('a list of proxy addresses and CIDRs', () => {
    let svc: TestService;
    before(async () => {
      svc = await startTestService({ IP_ALLOWLIST: 'tradingview', TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' });
    });
    after(async () => svc.close());

    it('skips every trusted proxy from the right and stops at the first address that is not one', async () => {
      assert.equal((await postFrom(svc, '127.0.0.1', `${TRADINGVIEW}, 10.1.2.3`)).status, 200);
      assertRefused(await postFrom(svc, '127.0.0.1', `${TRADINGVIEW}, 198.51.100.7, 10.1.2.3`), '198.51.100.7');
    });

    it('ignores X-Forwarded-For from a peer that is not a listed proxy', async () => {
      assertRefused(await postFrom(svc, '127.0.0.6', TRADINGVIEW), '127.0.0.6');
    });
  });

  it('refuses TRUST_PROXY=true at start-up and says what to set instead', () => {
    for (const value of ['true', 'yes', 'TRUE']) {
      assert.throws(() => parseConfig({ TRUST_PROXY: value }), (err: Error) => {
        assert.match(err.message, new RegExp(`TRUST_PROXY="${value}"`));
        assert.match(err.message, /addresses or CIDRs.*number of proxies/s);
        return true;
      });
    }
  });

  it('refuses a proxy entry that is not an address or CIDR, and a hop count above 10', () => {
    assert.throws(() => parseConfig({ TRUST_PROXY: '127.0.0.1, proxy.internal' }), /TRUST_PROXY=.*"proxy\.internal" is not an IP address or CIDR/);
    assert.throws(() => parseConfig({ TRUST_PROXY: '10.0.0.0/40' }), /TRUST_PROXY=.*prefix/);
    assert.throws(() => parseConfig({ TRUST_PROXY: '11' }), /TRUST_PROXY="11".*1 to 10/);
  });

  it('turns off for false, 0 and empty', () => {
    for (const value of ['false', '0', 'no', '']) assert.equal(parseConfig({ TRUST_PROXY: value }).http.trustProxy, undefined);
  });
});
