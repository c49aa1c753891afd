// Imported first by each webview entry, before any schema is built: zod 4 compiles fast object
// parsers with `new Function`, which the webview CSP (no 'unsafe-eval') forbids. Probing for it
// would log a CSP violation; jitless mode skips the probe and parses the same, a little slower.
import { z } from 'zod';

z.config({ jitless: true });
