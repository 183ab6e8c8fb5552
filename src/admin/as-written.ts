// What the config file says, for the admin pages: the loaded config (defaults applied, types known) with
// every value the file writes as ${NAME} shown as that text, never as what the environment put there.
import { parseDocument } from 'yaml';
import type { RouteConfig } from '../config/schema.ts';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `loaded` with the file's own text wherever the file (`written`, the same place unsubstituted) has "${". */
export function overlayWritten(loaded: unknown, written: unknown): unknown {
  if (typeof written === 'string' && written.includes('${')) return written;
  if (Array.isArray(loaded)) return loaded.map((item, i) => overlayWritten(item, Array.isArray(written) ? written[i] : undefined));
  if (isObject(loaded)) return Object.fromEntries(Object.entries(loaded).map(([key, value]) => [key, overlayWritten(value, isObject(written) ? written[key] : undefined)]));
  return loaded;
}

/**
 * The routes as `text` writes them. A value written as ${NAME} keeps that text even where the loaded type
 * is another (a duration): the pages print it as it is.
 */
export function routesAsWritten(routes: readonly RouteConfig[], text: string): RouteConfig[] {
  const written = (parseDocument(text).toJS() as { routes?: unknown } | null)?.routes;
  return overlayWritten(routes, written) as RouteConfig[];
}
