/**
 * Herald's layer fences (DESIGN §2, as amended in the README's design notes), checked by
 * dependency-cruiser in `npm test` (`npm run lint:layers`). A forbidden import fails naming its rule.
 */
const LAYERS =
  '(domain|workflows|activities|adapters|db|api|workers|simulators|scripts|bench|test|config|codec|services|observability|carriers)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules never import each other in a circle.',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflows-are-deterministic',
      comment:
        'workflows/ imports only @temporalio/workflow (and common), domain/, its own files and `import type` of activities: no Node built-ins, no db/, no adapters/.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        pathNot: ['^workflows/', '^domain/', '^node_modules/@temporalio/(workflow|common)/'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'workflows-no-node-builtins',
      comment: 'Workflow code runs in the deterministic sandbox: no Node built-ins.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'domain-is-pure',
      comment: 'domain/ imports nothing of ours but domain/, and no Node built-ins (workflows import it).',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: `^${LAYERS}/`, pathNot: '^domain/' },
    },
    {
      name: 'domain-no-node-builtins',
      comment: 'domain/ is importable from workflows: no Node built-ins.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'adapters-only-domain',
      comment: 'adapters/ imports domain/ only; adapters never touch the database.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: `^${LAYERS}/`, pathNot: '^(adapters|domain)/' },
    },
    {
      name: 'db-only-domain',
      comment: 'db/ imports domain/ only (its pure functions and types).',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: `^${LAYERS}/`, pathNot: '^(db|domain)/' },
    },
    {
      name: 'api-starts-workflows-not-activities',
      comment:
        'api/ never calls an activity nor runs workers: it starts, signals and queries workflows and reads the database.',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^(activities|workers|simulators|scripts|bench|test)/' },
    },
    {
      name: 'activities-not-processes',
      comment:
        'activities/ are built by createActivities(deps): they never import api/, workers/ or entry points.',
      severity: 'error',
      from: { path: '^activities/' },
      to: { path: '^(api|workers|simulators|scripts|bench|test)/' },
    },
    {
      name: 'services-below-processes',
      comment:
        'services/ (use cases on the Temporal client and the database, outbound-webhook plumbing) serves api/, activities/ and workers/ and never imports them.',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^(api|activities|workers|simulators|scripts|bench|test)/' },
    },
    {
      name: 'config-is-a-leaf',
      comment: 'config/ (environment and defaults) imports only config/, domain/ and the codec key format.',
      severity: 'error',
      from: { path: '^config/' },
      to: { path: `^${LAYERS}/`, pathNot: ['^(config|domain)/', '^codec/keys\\.ts$'] },
    },
    {
      name: 'codec-below-config',
      comment: 'codec/ never imports config/ (only its process entry, codec/main.ts, reads the environment).',
      severity: 'error',
      from: { path: '^codec/', pathNot: '^codec/main\\.ts$' },
      to: { path: '^config/' },
    },
    {
      name: 'simulators-stand-alone',
      comment:
        'simulators/ are carriers: they share only the wire formats (adapters/ helpers: signatures, decimals, SMPP text) and domain/.',
      severity: 'error',
      from: { path: '^simulators/' },
      to: { path: `^${LAYERS}/`, pathNot: '^(simulators|domain|adapters)/' },
    },
    {
      name: 'no-test-code-in-the-product',
      comment: 'Only test/ imports test/.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-bench-code-in-the-product',
      comment: 'Only bench/ and test/ import bench/.',
      severity: 'error',
      from: { pathNot: '^(bench|test)/' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.cache|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
