import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  FILE_SIZE_LIMITS,
  FileReadError,
  readRegularFile,
  readRegularFileSync,
} from '../../src/config/read-regular-file.js';

/** Both readers on the same file: the text, or the reason of the FileReadError. */
async function bothReads(file: string, maxBytes: number): Promise<[string, string]> {
  const outcome = (read: () => string): string => {
    try {
      return `text ${JSON.stringify(read())}`;
    } catch (error) {
      if (error instanceof FileReadError) return `error ${error.reason}`;
      throw error;
    }
  };
  const sync = outcome(() => readRegularFileSync(file, maxBytes));
  let text: string;
  try {
    text = await readRegularFile(file, maxBytes);
  } catch (error) {
    if (error instanceof FileReadError) return [sync, `error ${error.reason}`];
    throw error;
  }
  return [sync, `text ${JSON.stringify(text)}`];
}

describe('readRegularFile / readRegularFileSync: one rule for every file the configuration names', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dis-exporter-read-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, contents: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, contents);
    return path;
  };

  it('caps key files at 4 KiB, token files at 16 KiB and config, web config and PEM files at 1 MiB', () => {
    expect(FILE_SIZE_LIMITS).to.deep.equal({ secret: 4096, token: 16_384, config: 1_048_576, pem: 1_048_576 });
  });

  const cases: ReadonlyArray<[string, () => string, number, string]> = [
    ['a regular file, as UTF-8', () => file('utf8', 'AK é\n'), 16, 'text "AK é\\n"'],
    ['an empty file', () => file('empty', ''), 16, 'text ""'],
    ['a file of exactly the limit', () => file('exact', 'x'.repeat(16)), 16, `text "${'x'.repeat(16)}"`],
    ['a file one byte over the limit', () => file('over', 'x'.repeat(17)), 16, 'error file is larger than 16 bytes'],
    [
      'a symbolic link to a regular file (a Kubernetes Secret)',
      () => linkTo(file('target', 'SK\n')),
      16,
      'text "SK\\n"',
    ],
    ['a missing file', () => join(dir, 'missing'), 16, 'error ENOENT'],
    ['a directory', () => dir, 16, 'error not a regular file (a directory)'],
    ['/dev/zero, which never ends', () => '/dev/zero', 4096, 'error not a regular file (a character device)'],
    ['/dev/null', () => '/dev/null', 4096, 'error not a regular file (a character device)'],
    // Files that say their size is 0 and hold more: what is read counts, not the size.
    ['a /proc file longer than the limit', () => '/proc/self/status', 16, 'error file is larger than 16 bytes'],
  ];
  for (const [name, path, maxBytes, expected] of cases) {
    it(name, async () => {
      expect(await bothReads(path(), maxBytes)).to.deep.equal([expected, expected]);
    });
  }

  function linkTo(target: string): string {
    const link = join(dir, 'link');
    rmSync(link, { force: true });
    symlinkSync(target, link);
    return link;
  }

  it('refuses a FIFO at once, without waiting for a writer (opening one for reading would block)', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // No writer ever comes: a read that waited would hang this test (and the sync one, the whole process).
    expect(await bothReads(fifo, 4096)).to.deep.equal([
      'error not a regular file (a FIFO)',
      'error not a regular file (a FIFO)',
    ]);
  });

  it('reads a file longer than its size says (a /proc file says 0) to the end, within the limit', async () => {
    const [sync, async] = await bothReads('/proc/self/limits', 65_536);
    const expected = `text ${JSON.stringify(readFileSync('/proc/self/limits', 'utf8'))}`;
    expect(expected.length).to.be.greaterThan(1000);
    expect([sync, async]).to.deep.equal([expected, expected]);
  });
});
