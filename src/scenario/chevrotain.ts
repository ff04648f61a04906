// The one place the scenario code takes chevrotain from. The built CLI (dist/) replaces this
// module with chevrotain's own single-file bundle (scripts/bundle-chevrotain.mjs, run by
// `npm run build`): the package entry loads hundreds of small modules, ~0.8 s at start-up, the
// bundle ~20 ms. Same package, same version, same API.
export * from 'chevrotain';
