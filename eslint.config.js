// Lint config: type-aware typescript-eslint over src/, test/ and bench/ (run by `npm test`).
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "views/", "deploy/", "config/"] },
  {
    files: ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "vitest.config.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
    },
  },
);
