// ESLint, run by `npm run lint` (docs/development.md ("Lint and boundaries")). Type-aware rules only where they
// catch what the compiler cannot: promises nobody waits for or that land where a callback's result is ignored, and
// type-only imports written as such (the import boundaries of .dependency-cruiser.mjs tell them from run-time ones).
// Unused names are tsc's job (noUnusedLocals, noUnusedParameters), formatting is Prettier's.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '.tools/', 'bench/results/'] },
  {
    files: ['**/*.{ts,mjs}'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        // tsconfig.json's files (src/, test/, bench/) and the few .mjs files (this one, the dependency-cruiser
        // rules, scripts/) in one program: a default project of their own for the .mjs files costs a second one.
        project: './tsconfig.eslint.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise that is neither awaited, returned, nor handled: its rejection crashes the process as an
      // unhandled rejection, and its work races what follows. Deliberate fire-and-forget is written
      // `void promise` with a comment saying why it cannot reject (or what handles it).
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise where a boolean or a callback whose result is ignored is expected (`if (promise)`,
      // `emitter.on('x', async () => …)`): the check is always true, the rejection is lost. Express 5's types
      // declare handlers as returning `void | Promise<void>` and express 5 forwards a rejection to the error
      // handler, so async route handlers pass without an exception here.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` of a value that is not a promise: a sign the callee is not what the caller thinks.
      '@typescript-eslint/await-thenable': 'error',
      // `return promise` inside try/catch skips the catch (and the finally runs too early): await it there.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // Type-only imports say so (`import type`, `type X` in the braces): tsc erases them, and the boundary
      // rules allow some folders only those (metrics/ imports dis/ only as types).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
    },
  },
);
