// ESLint flat config: typescript-eslint's type-checked recommendations (STYLE.md) over the TypeScript sources.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/", "dist/", "build/", "native/build/", "runs/", "out/", "coverage/", "scratch/", "**/carry/", "**/*.mjs", "**/*.js"],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    // Warnings, not errors, for now (2026-11-27, when this config was added): tfjs's `as tf.Tensor3D` on generic
    // calls (no-unnecessary-type-assertion), untyped JSON and worker messages (no-unsafe-*), async functions
    // kept async for their callers (require-await). Everything else fails `npm run lint`.
    rules: {
      "@typescript-eslint/no-unnecessary-type-assertion": "warn",
      "@typescript-eslint/no-unsafe-member-access": "warn",
      "@typescript-eslint/no-unsafe-assignment": "warn",
      "@typescript-eslint/no-unsafe-argument": "warn",
      "@typescript-eslint/no-unsafe-return": "warn",
      "@typescript-eslint/no-unsafe-call": "warn",
      "@typescript-eslint/require-await": "warn",
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true, allowNullish: true, allowArray: true, allowNever: true },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
);
