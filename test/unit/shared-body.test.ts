import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { MAX_BODIES_PER_FORMAT, SHARE_WINDOW_MS, SharedBodies, type SharedBody } from '../../src/http/shared-body.js';
import { flush } from '../helpers/manual-clock.js';

const T0 = Date.UTC(2024, 0, 1);

/** A render whose chunks come when the test says, and what became of it. */
class ControlledRender {
  readonly produced: string[] = [];
  finished = false;
  readonly #steps: Array<(step: 'chunk' | 'end' | 'fail') => void> = [];

  constructor(readonly openMetrics: boolean) {}

  async *chunks(): AsyncGenerator<string> {
    try {
      for (let i = 0; ; i++) {
        const step = await new Promise<'chunk' | 'end' | 'fail'>((resolve) => this.#steps.push(resolve));
        if (step === 'end') return;
        if (step === 'fail') throw new Error('registry broke');
        const text = `${this.openMetrics ? 'om' : 'text'} ${i}\n`;
        this.produced.push(text);
        yield text;
      }
    } finally {
      this.finished = true;
    }
  }

  async step(step: 'chunk' | 'end' | 'fail'): Promise<void> {
    for (let i = 0; i < 100 && this.#steps.length === 0; i++) await flush();
    this.#steps.shift()!(step);
    await flush();
  }
}

/** The text of a body once it is rendered. */
async function textOf(body: SharedBody): Promise<string> {
  return gunzipSync(Buffer.concat(await collect(body))).toString('utf8');
}

/** The gzipped chunks of a body once it is rendered. */
describe('SharedBodies: scrapes that come together share one render', () => {
  let renders: ControlledRender[];
  let version: unknown[];
  let nowMs: number;
  let monotonicMs: number;
  let bodies: SharedBodies;

  beforeEach(() => {
    renders = [];
    version = ['snapshot 1'];
    nowMs = T0;
    monotonicMs = 0;
    bodies = new SharedBodies({
      render: (openMetrics) => {
        const render = new ControlledRender(openMetrics);
        renders.push(render);
        return render.chunks();
      },
      version: () => version,
      now: () => nowMs,
      monotonicNow: () => monotonicMs,
    });
  });

  it('gives concurrent scrapes of a format one render and the very same gzip Buffers', async () => {
    const first = bodies.join(false, () => undefined);
    const second = bodies.join(false, () => undefined);
    const other = bodies.join(true, () => undefined);
    expect(first.body).to.equal(second.body);
    expect(other.body).to.not.equal(first.body);
    expect(renders.map((render) => render.openMetrics)).to.deep.equal([false, true]);
    await renders[0]!.step('chunk');
    await renders[0]!.step('chunk');
    await renders[0]!.step('end');
    const [a, b] = [await collect(first.body), await collect(second.body)];
    expect(a.length).to.be.greaterThan(0);
    a.forEach((chunk, index) => expect(chunk === b[index], `chunk ${index} is the same Buffer`).to.equal(true));
    expect(gunzipSync(Buffer.concat(a)).toString()).to.equal('text 0\ntext 1\n');
  });

  it(`shares a body while another scrape receives it, up to ${SHARE_WINDOW_MS} ms after its render began`, async () => {
    const first = bodies.join(false, () => undefined);
    await renders[0]!.step('chunk');
    await renders[0]!.step('end');
    expect(await textOf(first.body)).to.equal('text 0\n');
    monotonicMs += SHARE_WINDOW_MS;
    nowMs += SHARE_WINDOW_MS;
    const second = bodies.join(false, () => undefined);
    expect(second.body).to.equal(first.body);
    expect(renders).to.have.length(1);
    monotonicMs += 1;
    const third = bodies.join(false, () => undefined);
    expect(third.body).to.not.equal(first.body);
    expect(renders).to.have.length(2);
    // The clock the values are computed at counts as well (an injected one stands still while real time passes).
    await renders[1]!.step('end');
    await textOf(third.body);
    nowMs += SHARE_WINDOW_MS + 1;
    expect(bodies.join(false, () => undefined).body).to.not.equal(third.body);
    expect(renders).to.have.length(3);
  });

  it('renders anew for a scrape that comes after the last reader of a body is done, and releases the body', async () => {
    const first = bodies.join(false, () => undefined);
    await renders[0]!.step('chunk');
    await renders[0]!.step('end');
    await textOf(first.body);
    expect(bodies.held.bodies).to.equal(1);
    first.leave();
    expect(bodies.held).to.deep.equal({ bodies: 0, bytes: 0 });
    expect(bodies.join(false, () => undefined).body).to.not.equal(first.body);
    expect(renders).to.have.length(2);
  });

  it('shares a body being rendered however long it takes, but never across a new snapshot', async () => {
    const first = bodies.join(false, () => undefined);
    await renders[0]!.step('chunk');
    monotonicMs += 10 * SHARE_WINDOW_MS;
    expect(bodies.join(false, () => undefined).body).to.equal(first.body);
    version = ['snapshot 2'];
    const next = bodies.join(false, () => undefined);
    expect(next.body).to.not.equal(first.body);
    expect(renders).to.have.length(2);
  });

  it(`keeps ${MAX_BODIES_PER_FORMAT} bodies of a format at most: a new one cuts the oldest one's readers off`, async () => {
    const cut: string[] = [];
    const first = bodies.join(false, () => cut.push('first'));
    await renders[0]!.step('chunk');
    version = ['snapshot 2'];
    bodies.join(false, () => cut.push('second'));
    bodies.join(true, () => cut.push('openmetrics'));
    expect(cut).to.deep.equal([]);
    version = ['snapshot 3'];
    bodies.join(false, () => cut.push('third'));
    expect(cut).to.deep.equal(['first']);
    expect(renders[0]!.finished, 'the render of the dropped body goes on').to.equal(false);
    await renders[0]!.step('chunk');
    expect(renders[0]!.finished, 'the render of the dropped body stops').to.equal(true);
    let error: unknown;
    try {
      await textOf(first.body);
    } catch (caught) {
      error = caught;
    }
    expect(String(error)).to.equal('Error: the /metrics body was dropped');
    expect(bodies.held.bodies).to.equal(3);
  });

  it('stops rendering when its last reader leaves, and forgets the body', async () => {
    const first = bodies.join(false, () => undefined);
    const second = bodies.join(false, () => undefined);
    await renders[0]!.step('chunk');
    first.leave();
    first.leave();
    await renders[0]!.step('chunk');
    expect(renders[0]!.finished).to.equal(false);
    second.leave();
    await renders[0]!.step('chunk');
    expect(renders[0]!.finished).to.equal(true);
    expect(renders[0]!.produced).to.have.length(3);
    expect(bodies.held).to.deep.equal({ bodies: 0, bytes: 0 });
    expect(bodies.join(false, () => undefined).body).to.not.equal(first.body);
  });

  it('a render that fails before its first text fails its readers, and the next scrape renders anew', async () => {
    const first = bodies.join(false, () => undefined);
    const second = bodies.join(false, () => undefined);
    await renders[0]!.step('fail');
    for (const reader of [first, second]) {
      let error: unknown;
      await reader.body.firstText.catch((caught: unknown) => (error = caught));
      expect(String(error)).to.equal('Error: registry broke');
    }
    const next = bodies.join(false, () => undefined);
    expect(next.body).to.not.equal(first.body);
    await renders[1]!.step('chunk');
    await next.body.firstText;
  });

  it('holds only the gzipped body, and the same Buffers are read again by every reader', async () => {
    const reader = bodies.join(false, () => undefined);
    for (let i = 0; i < 5; i++) await renders[0]!.step('chunk');
    await renders[0]!.step('end');
    const chunks = await collect(reader.body);
    expect(gunzipSync(Buffer.concat(chunks)).toString()).to.equal(renders[0]!.produced.join(''));
    expect(bodies.held).to.deep.equal({ bodies: 1, bytes: Buffer.concat(chunks).length });
    const again = await collect(reader.body);
    again.forEach((chunk, index) => expect(chunk === chunks[index]).to.equal(true));
  });
});

async function collect(body: SharedBody): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of body.gzipped()) chunks.push(chunk);
  return chunks;
}
