/**
 * The layer order of src/, bottom first. A module may import from its own layer and the layers below it, never
 * above, and nothing may form a cycle. `npm test` runs this (npm run lint:deps).
 */
const LAYERS = ['util', 'input', 'ignition', 'policy', 'cluster', 'engine', 'rules', 'admission', 'server', 'cli'];

const upward = LAYERS.map((layer, i) => ({
  name: `no-upward-from-${layer}`,
  comment: `${layer} may import only from ${LAYERS.slice(0, i + 1).join(', ')}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|') || '$^'})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Import cycles hide the layer order; break them by moving the shared piece down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-from-outside',
      comment: 'The product never imports tests, the bench or files outside src/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'known-layer',
      comment: 'Every file under src/ belongs to one of the layers.',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/` },
      to: {},
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
