import { CREDENTIALS, PROJECT_ID } from './exporter.js';

/** The epoch of the scenarios: the simulated streams start here. */
export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

/** Two streams with one dump task each (OBS and DLI), a day old, as the integration goldens show them. */
export const SCENARIO = {
  projectId: PROJECT_ID,
  credentials: [CREDENTIALS],
  epochMs: T0,
  streams: [
    {
      name: 'orders',
      partitions: [
        { initialRecords: 1000, recordsPerSecond: 10 },
        { initialRecords: 2000, recordsPerSecond: 5 },
      ],
      tasks: [
        {
          name: 'orders-to-obs',
          id: 'task-orders-0001',
          destinationType: 'OBS',
          createdMsAgo: 86_400_000,
          destination: { obs_bucket_path: 'orders-archive', deliver_time_interval: 60 },
        },
      ],
    },
    {
      name: 'clicks',
      partitions: [{ initialRecords: 500, recordsPerSecond: 1 }],
      tasks: [
        {
          name: 'clicks-to-dli',
          id: 'task-clicks-0001',
          destinationType: 'DLI',
          createdMsAgo: 86_400_000,
          destination: { dli_database_name: 'analytics', dli_table_name: 'clicks', deliver_time_interval: 30 },
        },
      ],
    },
  ],
};
