import { expect } from 'chai';
import {
  advanceTrack,
  DEFAULT_STALL_AFTER_MS,
  FALLING_BEHIND_DELIVERIES,
  HISTORY_LENGTH,
  judge,
  stallAfterMs,
  type Observation,
  type PartitionStatus,
  type PartitionTrack,
} from '../../src/poll/verdict.js';

const T0 = Date.UTC(2024, 0, 1);
const FIVE_MINUTES_MS = 300_000;

/** A poll as [seconds after T0, offset, lag in records], and 'paused' when the task was PAUSED at that poll. */
type Poll = readonly [seconds: number, offset: number, lagRecords: number, paused?: 'paused'];

function at(seconds: number): number {
  return T0 + seconds * 1000;
}

function observation([seconds, offset, lagRecords, paused]: Poll): Observation {
  return { atMs: at(seconds), offset, lagRecords, ...(paused === undefined ? {} : { paused: true }) };
}

function trackOf(polls: readonly Poll[]): PartitionTrack {
  let track: PartitionTrack = { recent: [] };
  for (const poll of polls) track = advanceTrack(track, observation(poll));
  return track;
}

/** Polls every 60 s over `hours` with the offset at 100 and nothing waiting. */
function quietFor(hours: number): Poll[] {
  return Array.from({ length: hours * 60 + 1 }, (_, i): Poll => [i * 60, 100, 0]);
}

/**
 * A healthy OBS-like task polled every 60 s: 10 records/s arrive, and every 300 s (at 270 s, 570 s, ...) it delivers
 * everything that arrived so far, so between deliveries its offset stands still while lag grows.
 */
function deliveringEvery5Polls(polls: number): Poll[] {
  return Array.from({ length: polls }, (_, k): Poll => {
    const t = k * 60;
    const lastDelivery = t < 270 ? undefined : 270 + Math.floor((t - 270) / 300) * 300;
    const offset = lastDelivery === undefined ? 0 : lastDelivery * 10;
    return [t, offset, t * 10 - offset];
  });
}

describe('verdict', () => {
  describe('stallAfterMs', () => {
    const cases: ReadonlyArray<[string, number | undefined, number | undefined, number]> = [
      ['the configured value wins over the deliver interval', 120_000, 300, 120_000],
      ['the configured value without a deliver interval', 120_000, undefined, 120_000],
      ['3 × the deliver interval when not configured', undefined, 300, 900_000],
      ['5 minutes when neither is known', undefined, undefined, DEFAULT_STALL_AFTER_MS],
      ['5 minutes when the deliver interval is 0', undefined, 0, DEFAULT_STALL_AFTER_MS],
    ];
    for (const [name, configured, interval, expected] of cases) {
      it(name, () => expect(stallAfterMs(configured, interval)).to.equal(expected));
    }

    it('exports its constants', () => {
      expect([HISTORY_LENGTH, FALLING_BEHIND_DELIVERIES, DEFAULT_STALL_AFTER_MS]).to.deep.equal([6, 3, 300_000]);
    });
  });

  describe('advanceTrack', () => {
    const waitingCases: ReadonlyArray<[string, readonly Poll[], number | undefined]> = [
      ['first poll with records waiting starts the clock there', [[60, 100, 5]], at(60)],
      ['first poll with nothing waiting', [[60, 100, 0]], undefined],
      [
        'records arriving on an idle partition start the clock at that poll, not earlier',
        [
          [0, 100, 0],
          [60, 100, 0],
          [120, 100, 5],
        ],
        at(120),
      ],
      [
        'offset standing still with records waiting keeps the clock',
        [
          [0, 100, 5],
          [60, 100, 9],
          [120, 100, 3],
        ],
        at(0),
      ],
      [
        'offset moved forward with records waiting again restarts the clock at that poll',
        [
          [0, 100, 5],
          [60, 100, 9],
          [120, 105, 7],
        ],
        at(120),
      ],
      [
        'offset moved forward and caught up clears the clock',
        [
          [0, 100, 5],
          [60, 105, 0],
        ],
        undefined,
      ],
      [
        'offset moved back with records waiting restarts the clock at that poll',
        [
          [0, 100, 5],
          [60, 100, 5],
          [120, 40, 65],
        ],
        at(120),
      ],
      [
        'lag dropping to 0 with the offset still clears the clock',
        [
          [0, 100, 5],
          [60, 100, 0],
        ],
        undefined,
      ],
      [
        'a paused task does not run the clock',
        [
          [0, 100, 5],
          [60, 100, 9, 'paused'],
          [120, 100, 12, 'paused'],
        ],
        undefined,
      ],
      [
        'a task resumed with records waiting starts the clock at the first poll after the pause',
        [
          [0, 100, 5],
          [60, 100, 9, 'paused'],
          [120, 100, 12, 'paused'],
          [180, 100, 15],
        ],
        at(180),
      ],
    ];
    for (const [name, polls, expected] of waitingCases) {
      it(name, () => expect(trackOf(polls).waitingSinceMs).to.equal(expected));
    }

    it(`keeps only the latest ${HISTORY_LENGTH} observations, oldest first`, () => {
      const polls = Array.from({ length: 10 }, (_, i): Poll => [i * 60, i * 10, 1]);
      expect(trackOf(polls).recent).to.deep.equal(polls.slice(4).map(observation));
    });

    it('ignores a poll seen twice (same atMs) and one older than the last', () => {
      const track = trackOf([
        [0, 100, 0],
        [60, 100, 5],
      ]);
      expect(advanceTrack(track, observation([60, 200, 0]))).to.equal(track);
      expect(advanceTrack(track, observation([30, 200, 0]))).to.equal(track);
      expect(track).to.deep.equal({
        recent: [
          { atMs: at(0), offset: 100, lagRecords: 0 },
          { atMs: at(60), offset: 100, lagRecords: 5 },
        ],
        waitingSinceMs: at(60),
      });
    });

    it('leaves waitingSinceMs out when nothing waits', () => {
      expect(trackOf([[0, 100, 0]])).to.deep.equal({ recent: [{ atMs: at(0), offset: 100, lagRecords: 0 }] });
    });

    it('does not modify the previous track', () => {
      const track = trackOf([[0, 100, 5]]);
      advanceTrack(track, observation([60, 120, 0]));
      expect(track).to.deep.equal({ recent: [{ atMs: at(0), offset: 100, lagRecords: 5 }], waitingSinceMs: at(0) });
    });
  });

  describe('falling behind with polls faster than deliveries', () => {
    // a delivery every 3 polls (60 s), polled every 20 s; the stream grows 10 records a poll
    function sawtooth(leftAfterDelivery: (delivery: number) => number): Poll[] {
      const polls: Poll[] = [];
      let offset = 0;
      for (let poll = 0; poll < 18; poll++) {
        const delivery = Math.floor(poll / 3);
        if (poll % 3 === 0) offset = 1000 * (delivery + 1);
        polls.push([poll * 20, offset, leftAfterDelivery(delivery) + (poll % 3) * 10]);
      }
      return polls;
    }

    it('is falling_behind when the lag left after each delivery grows', () => {
      const track = trackOf(sawtooth((d) => 100 + 50 * d));
      expect(track.deliveries?.map((d) => d.lagRecords)).to.deep.equal([200, 250, 300, 350]);
      expect(judge(track, at(345), FIVE_MINUTES_MS)).to.deep.equal({ status: 'falling_behind', stalledSeconds: 45 });
    });

    it('is never falling_behind when the dump keeps up, although lag grows between deliveries', () => {
      const polls = sawtooth(() => 100);
      let track: PartitionTrack = { recent: [] };
      const seen = new Set<string>();
      for (const poll of polls) {
        track = advanceTrack(track, observation(poll));
        seen.add(judge(track, at(poll[0] + 10), FIVE_MINUTES_MS).status);
      }
      expect([...seen]).to.deep.equal(['progressing']);
    });
  });

  describe('judge', () => {
    type Case = Readonly<{
      name: string;
      polls: readonly Poll[];
      nowMs: number;
      stallAfterMs: number;
      status: PartitionStatus;
      stalledSeconds: number;
    }>;
    const cases: readonly Case[] = [
      {
        name: 'a partition idle for 6 hours is idle, even with a 1 ms stall threshold',
        polls: quietFor(6),
        nowMs: at(6 * 3600 + 30),
        stallAfterMs: 1,
        status: 'idle',
        stalledSeconds: 0,
      },
      {
        name: 'records arriving after hours idle: 0 s until a later poll proves the offset stood still',
        polls: [...quietFor(6), [6 * 3600 + 60, 100, 5]],
        nowMs: at(6 * 3600 + 90),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 0,
      },
      {
        name: 'records arriving after hours idle are timed from the poll that saw them',
        polls: [...quietFor(6), [6 * 3600 + 60, 100, 5], [6 * 3600 + 120, 100, 9]],
        nowMs: at(6 * 3600 + 150),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 90,
      },
      {
        name: 'a stall one ms short of the threshold is not stalled yet',
        polls: [
          [0, 100, 0],
          [60, 100, 5],
          [120, 100, 8],
          [180, 100, 8],
          [240, 100, 8],
          [300, 100, 8],
        ],
        nowMs: at(360) - 1,
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 299.999,
      },
      {
        name: 'a stall reaching exactly the threshold is stalled',
        polls: [
          [0, 100, 0],
          [60, 100, 5],
          [120, 100, 8],
          [180, 100, 8],
          [240, 100, 8],
          [300, 100, 8],
        ],
        nowMs: at(360),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'stalled',
        stalledSeconds: 300,
      },
      {
        name: 'stalled wins over growing lag while the offset stands still',
        polls: [
          [0, 100, 10],
          [120, 100, 20],
          [240, 100, 30],
          [360, 100, 40],
        ],
        nowMs: at(400),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'stalled',
        stalledSeconds: 400,
      },
      {
        name: 'a healthy task mid-cycle (delivered at 570 s, seen at 600 s) is progressing',
        polls: deliveringEvery5Polls(14),
        nowMs: at(830),
        stallAfterMs: stallAfterMs(undefined, 300),
        status: 'progressing',
        stalledSeconds: 230,
      },
      {
        name: 'lag growing although the offset advances every poll is falling behind',
        polls: [
          [0, 0, 100],
          [60, 500, 200],
          [120, 1000, 400],
          [180, 1500, 800],
          [240, 2000, 1600],
        ],
        nowMs: at(250),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'falling_behind',
        stalledSeconds: 0,
      },
      {
        name: 'lag growing between polls with a single delivery seen is not falling behind',
        polls: [
          [0, 0, 100],
          [60, 0, 200],
          [120, 1000, 300],
          [180, 1000, 400],
        ],
        nowMs: at(200),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 80,
      },
      {
        name: 'lag growing with the offset still between deliveries is not falling behind',
        polls: [
          [0, 1000, 100],
          [60, 1000, 200],
          [120, 1000, 300],
          [180, 1000, 400],
        ],
        nowMs: at(180),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 180,
      },
      {
        name: 'lag growing over only 3 polls is not yet falling behind',
        polls: [
          [0, 0, 100],
          [60, 500, 200],
          [120, 1000, 400],
        ],
        nowMs: at(120),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 0,
      },
      {
        name: 'lag that dipped once in the last 3 polls is not falling behind',
        polls: [
          [0, 0, 100],
          [60, 500, 200],
          [120, 1000, 150],
          [180, 1500, 800],
        ],
        nowMs: at(180),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 0,
      },
      {
        name: 'an offset lower than the poll before is rewound',
        polls: [
          [0, 1000, 50],
          [60, 400, 700],
        ],
        nowMs: at(90),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'rewound',
        stalledSeconds: 0,
      },
      {
        name: 'rewound wins over idle',
        polls: [
          [0, 1000, 0],
          [60, 400, 0],
        ],
        nowMs: at(60),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'rewound',
        stalledSeconds: 0,
      },
      {
        name: 'rewound wins over a stall threshold already passed',
        polls: [
          [0, 1000, 50],
          [60, 400, 700],
        ],
        nowMs: at(600),
        stallAfterMs: 1,
        status: 'rewound',
        stalledSeconds: 0,
      },
      {
        name: 'after a rewind the next poll with the offset moving is progressing',
        polls: [
          [0, 1000, 50],
          [60, 400, 700],
          [120, 500, 650],
        ],
        nowMs: at(130),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 0,
      },
      {
        name: 'after a rewind the next poll with the offset still is timed from the rewind poll',
        polls: [
          [0, 1000, 50],
          [60, 400, 700],
          [120, 400, 750],
        ],
        nowMs: at(130),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 70,
      },
      {
        name: 'a scrape time before the clock started clamps to 0',
        polls: [[60, 100, 5]],
        nowMs: at(59),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 0,
      },
      {
        name: 'a paused task with records waiting for an hour is paused, not stalled',
        polls: [
          [0, 100, 5],
          [60, 100, 9, 'paused'],
          [3600, 100, 600, 'paused'],
        ],
        nowMs: at(3630),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'paused',
        stalledSeconds: 0,
      },
      {
        name: 'paused wins over idle',
        polls: [[0, 100, 0, 'paused']],
        nowMs: at(30),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'paused',
        stalledSeconds: 0,
      },
      {
        name: 'paused wins over rewound and falling behind',
        polls: [
          [0, 0, 100],
          [60, 500, 200],
          [120, 1000, 400],
          [180, 1500, 800],
          [240, 400, 1600, 'paused'],
        ],
        nowMs: at(250),
        stallAfterMs: 1,
        status: 'paused',
        stalledSeconds: 0,
      },
      {
        name: 'a task resumed after an hour paused is not stalled at its first poll',
        polls: [
          [0, 100, 5, 'paused'],
          [3600, 100, 600, 'paused'],
          [3660, 100, 606],
        ],
        nowMs: at(3690),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 0,
      },
      {
        name: 'a task resumed whose offset then stands still is timed from the first poll after the pause',
        polls: [
          [0, 100, 5, 'paused'],
          [3600, 100, 600, 'paused'],
          [3660, 100, 606],
          [3720, 100, 612],
        ],
        nowMs: at(3730),
        stallAfterMs: FIVE_MINUTES_MS,
        status: 'progressing',
        stalledSeconds: 70,
      },
      {
        name: 'a track without observations is idle',
        polls: [],
        nowMs: at(0),
        stallAfterMs: 1,
        status: 'idle',
        stalledSeconds: 0,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(judge(trackOf(c.polls), c.nowMs, c.stallAfterMs)).to.deep.equal({
          status: c.status,
          stalledSeconds: c.stalledSeconds,
        });
      });
    }

    it('never reports a partition idle for 6 hours as stalled, at any poll or between polls', () => {
      let track: PartitionTrack | undefined;
      const seen = new Set<string>();
      for (const poll of quietFor(6)) {
        track = advanceTrack(track, observation(poll));
        for (const nowMs of [at(poll[0]), at(poll[0] + 59)]) {
          const verdict = judge(track, nowMs, FIVE_MINUTES_MS);
          seen.add(`${verdict.status}/${verdict.stalledSeconds}`);
        }
      }
      expect([...seen]).to.deep.equal(['idle/0']);
    });

    it('never reports a task that delivers every 5 polls as stalled or falling behind over 3 hours', () => {
      let track: PartitionTrack | undefined;
      const statuses = new Set<PartitionStatus>();
      let longestWaitSeconds = 0;
      for (const poll of deliveringEvery5Polls(3 * 60)) {
        track = advanceTrack(track, observation(poll));
        for (const nowMs of [at(poll[0]), at(poll[0] + 59)]) {
          const verdict = judge(track, nowMs, stallAfterMs(undefined, 300));
          statuses.add(verdict.status);
          longestWaitSeconds = Math.max(longestWaitSeconds, verdict.stalledSeconds);
        }
      }
      expect([...statuses]).to.deep.equal(['idle', 'progressing']);
      expect(longestWaitSeconds).to.equal(299);
    });
  });
});
