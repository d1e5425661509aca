#!/usr/bin/env node
import { run } from './cli.js';
import { relaxHeapGrowth } from './heap-growth.js';

relaxHeapGrowth();
process.exitCode = await run(process.argv.slice(2), process.env);
