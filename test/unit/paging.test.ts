import { expect } from 'chai';
import { DisResponseError } from '../../src/dis/errors.js';
import { MAX_PAGES, walkPages, type Paging } from '../../src/dis/paging.js';
import { failureOf } from '../helpers/errors.js';

type Letters = Readonly<{ letters: readonly string[]; hasMore: boolean }>;

/** A listing of letters whose next page starts after the last letter of the previous one. */
const LETTERS: Paging<Letters> = {
  path: (cursor) => (cursor === undefined ? '/letters' : `/letters?after=${cursor}`),
  keys: (page) => page.letters,
  cursor: (page) => page.letters.at(-1),
  moreField: 'has_more_letters',
  noun: 'letters',
};

const requestOf = (path: string): string => `GET /v2/p${path}`;

/** A server that answers the i-th page request with `pages[i]`, recording the paths asked for. */
function server(pages: readonly Letters[]) {
  const paths: string[] = [];
  const fetchPage = async (path: string): Promise<Letters> => {
    const page = pages[paths.length];
    paths.push(path);
    if (page === undefined) throw new Error(`no page ${paths.length}`);
    return page;
  };
  return { paths, fetchPage };
}

describe('paging (walkPages)', () => {
  it('follows the cursor of each page while the server says "more", and returns the pages in order', async () => {
    const pages = [
      { letters: ['a', 'b'], hasMore: true },
      { letters: ['c', 'd'], hasMore: true },
      { letters: ['e'], hasMore: false },
    ];
    const { paths, fetchPage } = server(pages);
    expect(await walkPages(LETTERS, fetchPage, requestOf)).to.deep.equal(pages);
    expect(paths).to.deep.equal(['/letters', '/letters?after=b', '/letters?after=d']);
  });

  it('stops after one page that says no more, even an empty one', async () => {
    const { paths, fetchPage } = server([{ letters: [], hasMore: false }]);
    expect(await walkPages(LETTERS, fetchPage, requestOf)).to.deep.equal([{ letters: [], hasMore: false }]);
    expect(paths).to.deep.equal(['/letters']);
  });

  it('ends the walk when a page repeats a key of an earlier page (the server ignored the cursor)', async () => {
    const { paths, fetchPage } = server([
      { letters: ['a', 'b'], hasMore: true },
      { letters: ['c', 'd'], hasMore: true },
      { letters: ['e', 'c'], hasMore: false },
    ]);
    const error = await failureOf(walkPages(LETTERS, fetchPage, requestOf));
    expect(error).to.be.instanceOf(DisResponseError);
    expect(error.reason).to.equal('bad_response');
    expect(error.message).to.equal(
      'GET /v2/p/letters?after=d: has_more_letters: was true on page 2 but page 3 repeats "c" from page 2',
    );
    expect(paths).to.have.length(3);
  });

  it('ends the walk when a page says "more" but lists nothing (no cursor to go on from)', async () => {
    const { fetchPage } = server([
      { letters: ['a'], hasMore: true },
      { letters: [], hasMore: true },
    ]);
    const error = await failureOf(walkPages(LETTERS, fetchPage, requestOf));
    expect(error.message).to.equal('GET /v2/p/letters?after=a: has_more_letters: is true but page 2 lists no letters');
  });

  it(`ends the walk when the listing still says "more" after ${MAX_PAGES} pages`, async () => {
    const paths: string[] = [];
    const endless = async (path: string): Promise<Letters> => {
      paths.push(path);
      return { letters: [`k${paths.length}`], hasMore: true };
    };
    const error = await failureOf(walkPages(LETTERS, endless, requestOf));
    expect(error.message).to.equal(
      `GET /v2/p/letters?after=k${MAX_PAGES - 1}: has_more_letters: is still true after ${MAX_PAGES} pages`,
    );
    expect(paths).to.have.length(MAX_PAGES);
  });

  it("rejects with a page's own error and asks for no further page", async () => {
    const { paths, fetchPage } = server([{ letters: ['a'], hasMore: true }]);
    const walk = walkPages(LETTERS, fetchPage, requestOf);
    const error: unknown = await walk.then(
      () => expect.fail('should have failed'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(Error).with.property('message', 'no page 2');
    expect(paths).to.deep.equal(['/letters', '/letters?after=a']);
  });
});
