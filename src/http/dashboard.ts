// Serves the operator dashboard (dashboard/, built by Vite into dist/dashboard/) at /dashboard/: the
// built files as they are, and index.html for every other /dashboard path so that deep links such as
// /dashboard/payments/pi_123 load the app, whose router then shows that screen. The HTML gets the strict
// CSP of security-headers.ts; the build has no inline script or style, so it needs no exception.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The project folder: the nearest one up from this file holding package.json (source or dist/ build). */
export function projectRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export const dashboardDir = (root = projectRoot()) => path.join(root, 'dist', 'dashboard');

export async function registerDashboard(app: FastifyInstance, dir = dashboardDir()): Promise<void> {
  dir = path.resolve(dir);
  const hide = { schema: { hide: true } };
  if (!existsSync(path.join(dir, 'index.html'))) {
    const notBuilt = (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          `The dashboard is not built (no ${dir}/index.html): run \`npm run build\`, or \`payctl start\`.`,
        );
    app.get('/dashboard', hide, notBuilt);
    app.get('/dashboard/*', hide, notBuilt);
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/dashboard/',
    // One route per built file, listed at start: the wildcard below is then free for the app's own paths.
    wildcard: false,
    index: ['index.html'],
    setHeaders(response, filePath) {
      // Vite names assets by their content hash: cache them for good; index.html must always be fresh.
      response.setHeader(
        'Cache-Control',
        filePath.includes(`${path.sep}assets${path.sep}`)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      );
    },
  });
  const serveApp = (request: FastifyRequest, reply: FastifyReply) => {
    // A missing asset is a 404, not the app: a browser would otherwise run HTML as a script.
    if (request.url.startsWith('/dashboard/assets/')) return reply.callNotFound();
    return reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
  };
  // `/dashboard/` (and `/dashboard`, trailing slashes being ignored) is fastify-static's index route.
  app.get('/dashboard/*', hide, serveApp);
}
