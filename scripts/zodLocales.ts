// Stand-in for zod's locales index in the extension's and webviews' bundles (the zod-locales plugin
// of scripts/build.mjs): `import { z } from 'zod'` otherwise pulls every language's error messages
// (~260 KB minified) into each bundle, which only ever uses English (zod's default).
export { default as en } from 'zod/v4/locales/en.js';
