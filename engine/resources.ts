// Finds a data folder that ships with the engine: beside the bundle (dist/, where the build copies
// it; the VSIX has no node_modules) or, when running from the source tree, inside its npm package.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * @param bundled folder under the bundle's directory ('' for the directory itself)
 * @param packageFile a file of the npm package whose folder holds the data
 * @param marker a file that must be in the folder
 */
export function resourceDir(bundled: string, packageFile: string, marker: string): string {
  const candidates = [join(__dirname, bundled)];
  try {
    candidates.push(dirname(require.resolve(packageFile)));
  } catch {
    // Not resolvable from a bundle shipped without node_modules: the bundle's own copy must serve.
  }
  const found = candidates.find((d) => existsSync(join(d, marker)));
  if (!found) throw new Error(`${marker} not found in: ${candidates.join(', ')}`);
  return found;
}
