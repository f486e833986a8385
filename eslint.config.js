// One linter for the whole monorepo: typescript-eslint's recommended rules,
// type-aware, plus the few rules that keep the dependency direction honest.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/**', 'scripts/**', 'deploy/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@mailbus/ingress', '@mailbus/bridgehead', '@mailbus/admin', '@mailbus/cli'],
              message: 'libs never depend on services',
            },
          ],
        },
      ],
    },
  },
);
