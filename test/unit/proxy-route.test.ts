import { expect } from 'chai';
import { checkProxyUrl, redactProxyUrl, resolveProxySettings } from '../../src/config/proxy.js';
import { bypassesProxy, proxyFor } from '../../src/dis/proxy-route.js';

describe('NO_PROXY (Go net/http rules, loopback not exempt by itself)', () => {
  // [NO_PROXY, URL, bypasses]
  const cases: ReadonlyArray<[string, string, boolean]> = [
    ['', 'https://dis.cn-north-4.myhuaweicloud.com', false],
    ['*', 'https://dis.cn-north-4.myhuaweicloud.com', true],
    [' * ', 'http://127.0.0.1:8080', true],
    // A domain exempts itself and its subdomains, on a label boundary.
    ['myhuaweicloud.com', 'https://myhuaweicloud.com', true],
    ['myhuaweicloud.com', 'https://dis.cn-north-4.myhuaweicloud.com', true],
    ['myhuaweicloud.com', 'https://notmyhuaweicloud.com', false],
    ['MyHuaweiCloud.COM', 'https://DIS.cn-north-4.myhuaweicloud.com', true],
    // .domain and *.domain exempt only the subdomains.
    ['.myhuaweicloud.com', 'https://myhuaweicloud.com', false],
    ['.myhuaweicloud.com', 'https://iam.myhuaweicloud.com', true],
    ['*.myhuaweicloud.com', 'https://myhuaweicloud.com', false],
    ['*.myhuaweicloud.com', 'https://iam.myhuaweicloud.com', true],
    // Ports: an entry's port must match the URL's, its scheme's default when it names none.
    ['example.com:8443', 'https://example.com:8443', true],
    ['example.com:8443', 'https://example.com', false],
    ['example.com:443', 'https://example.com', true],
    ['example.com:80', 'http://example.com', true],
    // IP addresses, compared as addresses, with or without a port; IPv6 in brackets.
    ['127.0.0.1', 'http://127.0.0.1:9999', true],
    ['127.0.0.1:9999', 'http://127.0.0.1:9999', true],
    ['127.0.0.1:9998', 'http://127.0.0.1:9999', false],
    ['127.0.0.2', 'http://127.0.0.1:9999', false],
    ['::1', 'http://[::1]:9999', true],
    ['[0:0::1]:9999', 'http://[::1]:9999', true],
    // CIDR blocks match addresses, not names.
    ['10.0.0.0/8', 'http://10.20.30.40', true],
    ['10.0.0.0/8', 'http://11.0.0.1', false],
    ['10.0.0.0/8', 'http://ten.example.com', false],
    ['fd00::/8', 'http://[fd12::1]', true],
    // Lists: commas with spaces; empty entries and an entry without a host are skipped.
    ['localhost, .svc,,:80, 169.254.169.254', 'http://169.254.169.254', true],
    ['localhost, .svc,,:80, 169.254.169.254', 'http://kube-dns.kube-system.svc', true],
    ['localhost, .svc,,:80, 169.254.169.254', 'http://example.com', false],
    // Not exempt unless listed: the tests reach loopback servers through a proxy.
    ['example.com', 'http://localhost:8080', false],
  ];
  for (const [noProxy, url, bypasses] of cases) {
    it(`${JSON.stringify(noProxy)} ${bypasses ? 'exempts' : 'does not exempt'} ${url}`, () => {
      expect(bypassesProxy(new URL(url), noProxy)).to.equal(bypasses);
    });
  }

  it('picks the proxy by the URL scheme, none for an exempt host', () => {
    const settings = { httpsProxy: 'http://s:3128/', httpProxy: 'http://p:3128/', noProxy: '.internal' };
    expect(proxyFor(new URL('https://dis.example.com'), settings)).to.equal('http://s:3128/');
    expect(proxyFor(new URL('http://dis.example.com'), settings)).to.equal('http://p:3128/');
    expect(proxyFor(new URL('http://dis.internal'), settings)).to.equal(undefined);
    expect(proxyFor(new URL('https://dis.example.com'), { ...settings, httpsProxy: '' })).to.equal(undefined);
  });
});

describe('proxy settings (dis.proxy and the environment)', () => {
  it('accepts http:// and https:// proxies with a user and password, and names what is wrong otherwise', () => {
    expect(checkProxyUrl('http://proxy.example.com:3128')).to.deep.equal({ url: 'http://proxy.example.com:3128/' });
    expect(checkProxyUrl('https://u:p%40ss@proxy:8443/')).to.deep.equal({ url: 'https://u:p%40ss@proxy:8443/' });
    expect(checkProxyUrl('socks5://u:secret@proxy:1080')).to.deep.equal({
      problem: 'must use http:// or https:// (got "socks5")',
    });
    expect(checkProxyUrl('proxy:3128')).to.deep.equal({ problem: 'must use http:// or https:// (got "proxy")' });
    expect(checkProxyUrl('http://u:secret@proxy:3128/path')).to.deep.equal({
      problem:
        'must be only a scheme, an optional user:password@, a host and a port, like http://proxy.example.com:3128',
    });
    expect(checkProxyUrl('http://u:secret@[bad')).to.deep.equal({
      problem: 'must be an http:// or https:// URL like http://proxy.example.com:3128',
    });
    // The environment's value may leave out the scheme, as curl allows.
    expect(checkProxyUrl('proxy:3128', 'http')).to.deep.equal({ url: 'http://proxy:3128/' });
  });

  it('takes dis.proxy for both schemes, else HTTPS_PROXY and HTTP_PROXY (lowercase first); NO_PROXY either way', () => {
    const env = {
      https_proxy: 'http://lower:3128',
      HTTPS_PROXY: 'http://upper:3128',
      HTTP_PROXY: 'plain:3128',
      NO_PROXY: '.svc',
    };
    expect(resolveProxySettings('', env)).to.deep.equal({
      settings: { httpsProxy: 'http://lower:3128/', httpProxy: 'http://plain:3128/', noProxy: '.svc' },
    });
    expect(resolveProxySettings('http://configured:3128/', env)).to.deep.equal({
      settings: { httpsProxy: 'http://configured:3128/', httpProxy: 'http://configured:3128/', noProxy: '.svc' },
    });
    expect(resolveProxySettings('', {})).to.deep.equal({ settings: { httpsProxy: '', httpProxy: '', noProxy: '' } });
    expect(resolveProxySettings('', { HTTPS_PROXY: 'ftp://u:secret@proxy' })).to.deep.equal({
      problems: ['HTTPS_PROXY: must use http:// or https:// (got "ftp") (from the environment; or set dis.proxy)'],
    });
  });

  it('redacts only the password of a proxy URL', () => {
    expect(redactProxyUrl('http://user:s3cret@proxy:3128/')).to.equal('http://user:[REDACTED]@proxy:3128/');
    expect(redactProxyUrl('http://proxy:3128/')).to.equal('http://proxy:3128/');
    expect(redactProxyUrl('')).to.equal('');
    expect(redactProxyUrl('not a url with s3cret')).to.equal('[REDACTED]');
  });
});
