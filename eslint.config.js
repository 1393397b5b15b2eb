// Lint rules: ESLint's and typescript-eslint's recommended sets, plus the house rules from the style guide.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "demo/", ".flotilla/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        Buffer: "readonly",
        console: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        fetch: "readonly",
        URL: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        TextDecoder: "readonly",
        performance: "readonly",
        crypto: "readonly",
        Response: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "TSEnumDeclaration",
          message: "No enums: type stripping cannot run them; use a union of string literals.",
        },
        {
          selector: "TSModuleDeclaration[kind='namespace']",
          message: "No namespaces: type stripping cannot run them.",
        },
        {
          selector: "TSParameterProperty",
          message: "No parameter properties: type stripping cannot run them.",
        },
        { selector: "ExportDefaultDeclaration", message: "Named exports only." },
      ],
    },
  },
  {
    // Layers point down only: the foundation (config, ledger, errors) imports nothing from the domain above it.
    files: ["src/config/**/*.ts", "src/ledger/**/*.ts", "src/errors.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "/(supervisor|gateway|constitution|migrations|fleet|isolation|api|cli|daemon)(/|\\.ts$)",
              message:
                "config/, ledger/ and errors.ts are the foundation: move the type down instead of the import up.",
            },
          ],
        },
      ],
    },
  },
  { files: ["eslint.config.js"], rules: { "no-restricted-syntax": "off" } },
);
