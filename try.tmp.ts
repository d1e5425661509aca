import { loadConfig, ConfigError } from './src/config/load.js';
for (const name of process.argv.slice(2)) {
  try {
    console.log(name, JSON.stringify(loadConfig({ file: `test/fixtures/config/${name}`, env: {} })));
  } catch (e) {
    console.log(name + '\n' + (e instanceof ConfigError ? e.problems.join('\n') : String(e)));
  }
}
