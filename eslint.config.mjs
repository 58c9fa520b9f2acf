// ESLint for the browser pages (native ES modules, no build step, no framework)
// and for their unit tests under tests/js (run by Node.js). Run by scripts/test.sh
// (`eslint client/static tests/js`); eslint 9 so that Debian's Node.js 18 runs it too.
import js from "@eslint/js";
import globals from "globals";

// The same rules for the pages and their tests: a test is code that must be right too.
const rules = {
  // A name used before its declaration in the same scope is a TDZ error at run time
  // (closures that run later may refer to what is declared below them).
  "no-use-before-define": ["error", { functions: false, classes: true, variables: false }],
  "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
  eqeqeq: ["error", "always", { null: "ignore" }],
  "no-var": "error",
  "prefer-const": "error",
};

export default [
  js.configs.recommended,
  {
    files: ["client/static/**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.browser } },
    rules,
  },
  {
    files: ["tests/js/**/*.mjs"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.node } },
    rules,
  },
];
